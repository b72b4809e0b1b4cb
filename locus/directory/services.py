"""Writes of the directory: organisations and their listings, services, partnerships, upkeep
(checks and reminders) and the demo directory. Every change is validated and audited
(`directory_changed`, ids and field names only)."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.ids import parse_id
from locus.core.services import audit_record

from .models import DirectorySettings, Organisation, OrganisationListing, Partnership, Service

DEFAULT_CHECK_DAYS = 180

ORGANISATION_FIELDS = ("name", "description", "website", "email", "phone")
SERVICE_FIELDS = (
    "name",
    "description",
    "service_type",
    "status",
    "target_groups",
    "min_age",
    "max_age",
    "languages",
    "whole_place",
    "eligibility",
    "how_to_refer",
    "email",
    "phone",
    "url",
    "opening_hours",
    "cost",
)


def _invalid(exc: ValidationError, message=None):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ValidationFailed(message or _("Some answers are not valid."), fields=fields)


def _audit(*, place, actor, target, record, fields, extra=None):
    audit_record(
        action=AuditAction.DIRECTORY_CHANGED,
        actor=actor,
        place=place,
        target=target,
        data={"record": record, "fields": sorted(fields), **(extra or {})},
    )


@transaction.atomic
def organisation_create(*, name, type, website="", description="", email="", phone=""):
    organisation = Organisation(
        name=name, type=type, website=website, description=description, email=email, phone=phone
    )
    try:
        organisation.full_clean()
    except ValidationError as exc:
        raise _invalid(exc) from None
    organisation.save()
    return organisation


@transaction.atomic
def organisation_list_in_place(*, organisation, place, manages_place=None):
    """List (or re-activate) an organisation in a place. `manages_place` marks the city's own
    team (None leaves it as it is)."""
    listing = OrganisationListing.objects.filter(place=place, organisation=organisation).first()
    if listing is None:
        listing = OrganisationListing(place=place, organisation=organisation)
    listing.is_active = True
    if manages_place is not None:
        listing.manages_place = manages_place
    listing.save()
    return listing


@transaction.atomic
def organisation_add_to_place(*, place, actor, inbox_email="", **fields):
    """A new organisation (a partner the coordinator works with) listed in `place`, its entry
    checked today. It has no members: the platform administrator invites its first
    administrator (docs/getting-started.md). An organisation of the same name already listed
    here is refused, so that a partner is not entered twice."""
    name = (fields.get("name") or "").strip()
    if OrganisationListing.objects.filter(
        place=place, is_active=True, organisation__name__iexact=name
    ).exists():
        raise ValidationFailed(
            _("An organisation of this name is already listed here."),
            fields={"name": [_("An organisation of this name is already listed here.")]},
        )
    organisation = organisation_create(**{**fields, "name": name})
    listing = OrganisationListing(
        place=place,
        organisation=organisation,
        inbox_email=inbox_email,
        last_checked_on=timezone.localdate(),
    )
    try:
        listing.full_clean(exclude=["place", "organisation"])
    except ValidationError as exc:
        raise _invalid(exc) from None
    listing.save()
    _audit(place=place, actor=actor, target=organisation, record="organisation", fields=["created"])
    return organisation


@transaction.atomic
def listing_inbox_set(*, place, actor, organisation, inbox_email):
    """Where "a report reached you" e-mails for `organisation` go in `place` (blank: none; its
    cases still reach it in Locus and by webhook). Audited without the address."""
    listing = _listing(place, organisation)
    inbox_email = (inbox_email or "").strip()
    if listing.inbox_email == inbox_email:
        return listing
    listing.inbox_email = inbox_email
    try:
        listing.full_clean(exclude=["place", "organisation"])
    except ValidationError as exc:
        raise _invalid(exc) from None
    listing.save(update_fields=["inbox_email"])
    _audit(
        place=place,
        actor=actor,
        target=listing,
        record="organisationlisting",
        fields=["inbox_email"],
    )
    return listing


def _listing(place, organisation):
    listing = OrganisationListing.objects.filter(
        place=place, organisation=organisation, is_active=True
    ).first()
    if listing is None:
        raise ValidationFailed(
            _("This organisation is not listed in this place."),
            fields={"organisation": [_("Choose an organisation listed in this place.")]},
        )
    return listing


@transaction.atomic
def organisation_entry_update(*, place, actor, organisation, checked=True, **changes):
    """Change an organisation's public entry (name, description, website, e-mail, phone) and
    mark its listing in `place` as checked today. The organisation is global: its entry is the
    same in every place it works in."""
    listing = _listing(place, organisation)
    unknown = set(changes) - set(ORGANISATION_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("Unknown field."), fields={key: [_("Unknown field.")] for key in sorted(unknown)}
        )
    changed = [key for key, value in changes.items() if getattr(organisation, key) != value]
    for key, value in changes.items():
        setattr(organisation, key, value)
    try:
        organisation.full_clean(exclude=["type"])
    except ValidationError as exc:
        raise _invalid(exc) from None
    organisation.save()
    if checked:
        listing.last_checked_on = timezone.localdate()
        listing.save(update_fields=["last_checked_on"])
    _audit(place=place, actor=actor, target=organisation, record="organisation", fields=changed)
    return organisation


@transaction.atomic
def service_write(*, place, actor, service=None, organisation=None, areas=None, **changes):
    """Create (`service` None) or change a service of an organisation listed in the place. Areas
    must be the place's. Saving marks the service as checked today."""
    unknown = set(changes) - set(SERVICE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("Unknown field."), fields={key: [_("Unknown field.")] for key in sorted(unknown)}
        )
    creating = service is None
    if creating:
        if organisation is None:
            raise ValidationFailed(
                _("Choose an organisation."),
                fields={"organisation": [_("This field is required.")]},
            )
        service = Service(place=place, organisation=organisation)
    elif organisation is not None and organisation.pk != service.organisation_id:
        service.organisation = organisation
    _listing(place, service.organisation)
    changed = [key for key, value in changes.items() if getattr(service, key, None) != value]
    for key, value in changes.items():
        setattr(service, key, value)
    if service.target_groups is None:
        service.target_groups = []
    if service.languages is None:
        service.languages = []
    area_ids = None
    if areas is not None:
        area_ids = sorted({getattr(a, "pk", a) for a in areas})
        from locus.places.models import Area

        found = set(
            Area.objects.filter(
                place=place,
                pk__in=[area_id for a in area_ids if (area_id := parse_id(str(a))) is not None],
            ).values_list("pk", flat=True)
        )
        if found != set(area_ids):
            raise ValidationFailed(
                _("Some answers are not valid."),
                fields={"areas": [_("Choose areas of this place.")]},
            )
    service.last_checked_on = timezone.localdate()
    try:
        service.full_clean(exclude=["organisation"])
    except ValidationError as exc:
        raise _invalid(exc) from None
    service.save()
    if area_ids is not None:
        before = set(service.areas.values_list("pk", flat=True)) if not creating else set()
        if before != set(area_ids):
            service.areas.set(area_ids)
            changed.append("areas")
    _audit(
        place=place,
        actor=actor,
        target=service,
        record="service",
        fields=["created"] if creating else changed,
        extra={"organisation": service.organisation_id},
    )
    return service


@transaction.atomic
def service_delete(*, place, actor, service):
    _audit(
        place=place,
        actor=actor,
        target=service,
        record="service",
        fields=["deleted"],
        extra={"organisation": service.organisation_id},
    )
    service.delete()


@transaction.atomic
def record_mark_checked(*, place, actor, record):
    """Confirm that a service, listing or partnership is still right, as of today."""
    record.last_checked_on = timezone.localdate()
    record.save(update_fields=["last_checked_on"])
    target = record.organisation if isinstance(record, OrganisationListing) else record
    _audit(
        place=place,
        actor=actor,
        target=target,
        record=type(record).__name__.lower(),
        fields=["last_checked_on"],
    )
    return record


@transaction.atomic
def partnership_write(*, place, actor, source, target, kind, description="", partnership=None):
    """Record (or change) that `source` funds / refers to / delivers with / shares data with
    `target`; both must be listed in the place."""
    for name, organisation in (("source", source), ("target", target)):
        if (
            organisation is None
            or not OrganisationListing.objects.filter(
                place=place, organisation=organisation, is_active=True
            ).exists()
        ):
            raise ValidationFailed(
                _("Some answers are not valid."),
                fields={name: [_("Choose an organisation listed in this place.")]},
            )
    creating = partnership is None
    if creating:
        partnership = Partnership(place=place)
    partnership.source, partnership.target = source, target
    partnership.kind, partnership.description = kind, description
    partnership.last_checked_on = timezone.localdate()
    duplicate = Partnership.objects.filter(
        place=place, source=source, target=target, kind=kind
    ).exclude(pk=partnership.pk)
    if duplicate.exists():
        raise ValidationFailed(
            _("This partnership is already recorded."),
            fields={"target": [_("This partnership is already recorded.")]},
        )
    try:
        partnership.full_clean(exclude=["source", "target"])
        partnership.clean()
    except ValidationError as exc:
        raise _invalid(exc) from None
    partnership.save()
    _audit(
        place=place,
        actor=actor,
        target=partnership,
        record="partnership",
        fields=["created"] if creating else ["source", "target", "kind", "description"],
    )
    return partnership


@transaction.atomic
def partnership_delete(*, place, actor, partnership):
    _audit(place=place, actor=actor, target=partnership, record="partnership", fields=["deleted"])
    partnership.delete()


# --- upkeep --------------------------------------------------------------------------------


def directory_check_days(place) -> int:
    """After how many days unchecked a record is stale: the place's setting, else the
    installation's LOCUS_DIRECTORY_CHECK_DAYS (default 180)."""
    row = DirectorySettings.objects.filter(place=place).first()
    if row is not None and row.check_every_days:
        return row.check_every_days
    return int(getattr(settings, "LOCUS_DIRECTORY_CHECK_DAYS", DEFAULT_CHECK_DAYS))


@transaction.atomic
def directory_settings_update(*, place, actor, check_every_days):
    row = DirectorySettings.objects.filter(place=place).first() or DirectorySettings(place=place)
    row.check_every_days = check_every_days
    try:
        row.full_clean(exclude=["place"])
    except ValidationError as exc:
        raise _invalid(exc) from None
    row.save()
    audit_record(
        action=AuditAction.DIRECTORY_CHANGED,
        actor=actor,
        place=place,
        target=row,
        data={"record": "settings", "fields": ["check_every_days"]},
    )
    return row


def _owner_addresses(place, organisation):
    """Where an organisation's reminder goes: its inbox address in the place, else the members
    whose role may edit its directory entry."""
    from locus.accounts.models import Membership
    from locus.accounts.policies import Capability, role_can

    listing = OrganisationListing.objects.filter(place=place, organisation=organisation).first()
    if listing is not None and listing.inbox_email:
        return [listing.inbox_email]
    return sorted(
        {
            m.user.email
            for m in Membership.objects.filter(
                organisation=organisation, is_active=True, user__is_active=True
            ).select_related("user")
            if role_can(m.role, Capability.MANAGE_OWN_DIRECTORY) and m.user.email
        }
    )


def directory_send_reminders(*, place, now=None, base_url=""):
    """E-mail (through the outbox) each organisation of the place with stale records — its
    listing or services not checked for `directory_check_days` — a link to its directory page.
    An organisation is reminded at most once per period. Returns the number of organisations
    reminded."""
    from locus.outbox.services import outbox_enqueue_email

    from .selectors import stale_records_by_organisation

    now = now or timezone.now()
    days = directory_check_days(place)
    stale = stale_records_by_organisation(place=place, today=timezone.localdate(now))
    reminded = 0
    for organisation_id, count in stale.items():
        with transaction.atomic():
            listing = (
                OrganisationListing.objects.select_for_update()
                .select_related("organisation")
                .filter(place=place, organisation_id=organisation_id, is_active=True)
                .first()
            )
            if listing is None:
                continue
            if listing.reminded_at and listing.reminded_at > now - dt.timedelta(days=days):
                continue
            link = base_url + reverse(
                "directory:organisation",
                kwargs={"place_slug": place.slug, "organisation_id": organisation_id},
            )
            subject = _("Please check your directory entry in %(place)s") % {"place": place.name}
            body = ngettext(
                "%(count)s record of your organisation in the %(place)s directory has not been "
                "checked for %(days)s days. Please check it, and confirm or correct it: %(link)s",
                "%(count)s records of your organisation in the %(place)s directory have not been "
                "checked for %(days)s days. Please check them, and confirm or correct them: "
                "%(link)s",
                count,
            ) % {"count": count, "place": place.name, "days": days, "link": link}
            for address in _owner_addresses(place, listing.organisation):
                outbox_enqueue_email(
                    place=place,
                    to=address,
                    subject=subject,
                    body=body,
                    event_type="directory.reminder",
                )
            listing.reminded_at = now
            listing.save(update_fields=["reminded_at"])
            reminded += 1
    return reminded


# --- demo ----------------------------------------------------------------------------------


def directory_load_demo():
    """The demo directory (demo_data.py) for London (and a little for Malmö), idempotent:
    organisations by name, services by (organisation, name), partnerships by their key.
    Check dates are set relative to today, so that some records are stale. Returns counts."""
    from locus.core.tenancy import place_scope
    from locus.places.models import Area, Place

    from .demo_data import ALL, LONDON, MALMO, PARTNERSHIPS

    counts = {"organisations": 0, "services": 0, "partnerships": 0}
    today = timezone.localdate()
    for slug, entries, partnerships in (("london", LONDON, PARTNERSHIPS), ("malmo", MALMO, [])):
        place = Place.objects.filter(slug=slug).first()
        if place is None:
            continue
        with place_scope(place), transaction.atomic():
            areas = {a.name: a for a in Area.objects.filter(place=place)}
            by_name = {}
            for name, org_type, website, description, offered in entries:
                organisation, _created = Organisation.objects.get_or_create(
                    name=name,
                    defaults={"type": org_type, "website": website, "description": description},
                )
                changed = False
                for key, value in (("website", website), ("description", description)):
                    if not getattr(organisation, key):
                        setattr(organisation, key, value)
                        changed = True
                if changed:
                    organisation.save()
                listing = organisation_list_in_place(organisation=organisation, place=place)
                oldest = max((s[-1] for s in offered), default=30)
                listing.last_checked_on = today - dt.timedelta(days=oldest)
                listing.save(update_fields=["last_checked_on"])
                by_name[name] = organisation
                counts["organisations"] += 1
                for (
                    service_name,
                    service_type,
                    groups,
                    languages,
                    served,
                    (min_age, max_age),
                    how_to_refer,
                    hours,
                    cost,
                    days_ago,
                ) in offered:
                    service, _created = Service.objects.update_or_create(
                        place=place,
                        organisation=organisation,
                        name=service_name,
                        defaults={
                            "description": description,
                            "service_type": service_type,
                            "target_groups": groups,
                            "languages": languages,
                            "whole_place": served == ALL,
                            "min_age": min_age,
                            "max_age": max_age,
                            "how_to_refer": how_to_refer,
                            "opening_hours": hours,
                            "cost": cost,
                            "url": website,
                            "last_checked_on": today - dt.timedelta(days=days_ago),
                        },
                    )
                    service.areas.set(
                        [] if served == ALL else [areas[n] for n in served if n in areas]
                    )
                    counts["services"] += 1
            for source, target, kind, description in partnerships:
                if source in by_name and target in by_name:
                    Partnership.objects.update_or_create(
                        place=place,
                        source=by_name[source],
                        target=by_name[target],
                        kind=kind,
                        defaults={
                            "description": description,
                            "last_checked_on": today - dt.timedelta(days=60),
                        },
                    )
                    counts["partnerships"] += 1
    return counts
