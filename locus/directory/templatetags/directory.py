from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`mapping[key]`, or the key itself (a code with no label yet)."""
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key


@register.inclusion_tag("directory/_receipt_services.html")
def support_for_report(place, reference):
    """Support services matching the report with this reference (its bias codes and area):
    shown on the receipt, which only the browser that sent the report can open. Reads no
    personal data: the report's bias codes and area only."""
    from locus.reporting.models import Report

    from ..selectors import services_for_report

    services = []
    if place is not None and reference:
        report = (
            Report.objects.filter(place=place, reference=reference)
            .only("pk", "bias", "area_id")
            .first()
        )
        if report is not None:
            services = services_for_report(
                place=place, bias=report.bias or [], area_id=report.area_id
            )
    return {"services": services, "place": place}
