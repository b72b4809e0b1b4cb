"""Writes of the insights app: annotations (audited), the roll-up, and the demo."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from locus.accounts.policies import Capability, membership_can
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.services import audit_record

from .models import ANNOTATION_TEXT_MAX, Annotation
from .rollups import rollup_rebuild, rollup_refresh

__all__ = [
    "annotation_create",
    "annotation_delete",
    "annotation_update",
    "insights_load_demo",
    "rollup_rebuild",
    "rollup_refresh",
]


def _check_manage(membership):
    if membership is not None and not membership_can(membership, Capability.MANAGE_INSIGHTS):
        raise PermissionDenied(_("Your role does not allow this."))


def _validated(*, starts_on, ends_on, text):
    errors = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = [_("This field is required.")]
    elif len(text) > ANNOTATION_TEXT_MAX:
        errors["text"] = [_("Keep it under %(count)s characters.") % {"count": ANNOTATION_TEXT_MAX}]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("The end cannot be before the start.")]
    elif starts_on and ends_on and (ends_on - starts_on).days > 366:
        errors["ends_on"] = [_("An annotation covers at most a year.")]
    if errors:
        raise ValidationFailed(_("Check the annotation."), fields=errors)
    return text


def _audit(annotation, *, actor, change):
    audit_record(
        action=AuditAction.ANNOTATION_CHANGED,
        actor=actor,
        place=annotation.place,
        target=annotation,
        data={
            "change": change,
            "starts_on": annotation.starts_on.isoformat(),
            "ends_on": annotation.ends_on.isoformat(),
        },
    )


@transaction.atomic
def annotation_create(*, place, membership=None, actor=None, starts_on, ends_on, text):
    """Add a trigger-event annotation to the place's charts (audited)."""
    _check_manage(membership)
    text = _validated(starts_on=starts_on, ends_on=ends_on, text=text)
    annotation = Annotation(
        place=place,
        starts_on=starts_on,
        ends_on=ends_on,
        text=text,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    try:
        annotation.full_clean()
    except ValidationError as error:
        raise ValidationFailed(_("Check the annotation."), fields=error.message_dict) from None
    annotation.save()
    _audit(annotation, actor=actor, change="created")
    return annotation


@transaction.atomic
def annotation_update(*, annotation, membership=None, actor=None, starts_on, ends_on, text):
    _check_manage(membership)
    annotation.text = _validated(starts_on=starts_on, ends_on=ends_on, text=text)
    annotation.starts_on, annotation.ends_on = starts_on, ends_on
    annotation.save()
    _audit(annotation, actor=actor, change="updated")
    return annotation


@transaction.atomic
def annotation_delete(*, annotation, membership=None, actor=None):
    _check_manage(membership)
    _audit(annotation, actor=actor, change="deleted")
    annotation.delete()


# --------------------------------------------------------------------------------------------
# Demo


DEMO_TRIGGER_TEXT = (
    "Trigger event: a fictional attack abroad and the conflict that followed (demo data, "
    "modelled on London after 7 October 2023)"
)


def insights_load_demo(*, today=None) -> dict:
    """The demo's annotations (London: the trigger event of the demo surge, the day and the
    week after) and a full build of every demo place's roll-up. Idempotent."""
    from locus.core.demo_reports import trigger_date
    from locus.core.tenancy import place_scope
    from locus.places.models import Place

    today = today or timezone.localdate()
    created = 0
    rows = 0
    for place in Place.objects.filter(slug__in=["london", "malmo"]):
        with place_scope(place):
            if place.slug == "london":
                start = trigger_date(today)
                if not Annotation.objects.filter(place=place, starts_on=start).exists():
                    annotation_create(
                        place=place,
                        starts_on=start,
                        ends_on=start + timedelta(days=6),
                        text=DEMO_TRIGGER_TEXT,
                    )
                    created += 1
            rows += rollup_rebuild(place=place)
    return {"annotations": created, "rollup_rows": rows}
