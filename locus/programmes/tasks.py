from django.tasks import task


@task()
def send_reminders_everywhere(*, base_url=""):
    """E-mail the organisations whose programme results are due (see `reminders_send`), in
    every active place. Returns {slug: count} for places that sent any. Run daily."""
    from django.conf import settings

    from locus.core.tenancy import place_scope
    from locus.places.selectors import place_list

    from .services import reminders_send

    base_url = base_url or getattr(settings, "LOCUS_BASE_URL", "") or ""
    sent = {}
    for place in place_list().order_by("slug"):
        with place_scope(place):
            count = reminders_send(place=place, base_url=base_url)
        if count:
            sent[place.slug] = count
    return sent
