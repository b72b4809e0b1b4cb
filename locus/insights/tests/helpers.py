"""Reports and cases written straight to the database, with only what the insights read."""

import secrets
from datetime import UTC, datetime, time

from locus.cases.choices import ShareReason, Verification
from locus.cases.models import Case, RoutingDecision
from locus.reporting.models import Report
from locus.reporting.services import content_key
from locus.reporting.taxonomy import CURRENT_VERSION


def add_report(
    place,
    day,
    *,
    area=None,
    incident_type="abusive_behaviour",
    bias=("anti_black",),
    setting="street",
    url="",
    occurred=True,
    **extra,
):
    """One report that happened on `day` (or, with occurred=False, arrived that day)."""
    return Report.objects.create(
        place=place,
        reference=secrets.token_hex(4)[:8].upper(),
        followup_code_hash=secrets.token_hex(32),
        taxonomy_version=extra.pop("taxonomy_version", CURRENT_VERSION),
        language="en",
        incident_type=incident_type,
        occurred_on=day if occurred else None,
        submitted_at=datetime.combine(day, time(12), UTC),
        area=area,
        setting=setting,
        content_url=url,
        content_key=content_key(url),
        bias=list(bias),
        reporter_role=extra.pop("reporter_role", "victim"),
        **extra,
    )


def add_case(report, organisation, *, verification=Verification.VERIFIED, **fields):
    decision = RoutingDecision.objects.create(
        place=report.place,
        report=report,
        organisation=organisation,
        sent=True,
        reason=ShareReason.PLACE_TEAM,
    )
    return Case.objects.create(
        place=report.place,
        report=report,
        organisation=organisation,
        decision=decision,
        verification=verification,
        created_at=fields.pop("created_at", report.submitted_at),
        **fields,
    )
