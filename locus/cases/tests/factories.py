"""Cases made the real way: a routing rule, a report submitted through the service (with an
evidence file when asked), and the cases that routing opened."""

import io
import secrets

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from locus.core.tenancy import place_scope

REPORT = {
    "incident_type": "threat",
    "reporter_role": "victim",
    "bias": ["anti_roma_sinti"],
    "setting": "street",
    "location_text": "Outside 12 Station Road",
    "account": "A neighbour said he would burn our house down.",
    "police_reference": "PR-778899",
    "consent_police_anonymised": True,
    "consent_support_contact": True,
    "contact": {"name": "Ana Resident", "email": "resident@example.org", "phone": "+447700900123"},
}
ONLINE = {
    "incident_type": "online_content",
    "reporter_role": "found_online",
    "bias": ["antisemitism"],
    "setting": "online",
    "platform": "x_twitter",
    "content_url": "https://x.com/someone/status/1",
    "account": "I found this post while scrolling.",
    "consent_support_contact": True,
    "contact": {"email": "finder@example.org"},
}


def jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def submit(place, data=None, *, area=None, evidence=False):
    """Submit a report in `place` (REPORT by default) and return it."""
    from locus.reporting.services import evidence_stage, report_submit

    data = dict(REPORT if data is None else data)
    if area is not None:
        data["area"] = area
    with place_scope(place):
        token = ""
        if evidence:
            token = secrets.token_hex(16)
            evidence_stage(place=place, uploaded=jpeg(), staged_token=token)
        return report_submit(place=place, data=data, staged_token=token).report


def route_to(place, organisations, name="Everyone"):
    """A rule sending every report of the place to these organisations."""
    from locus.cases.services import routing_rule_save

    with place_scope(place):
        return routing_rule_save(place=place, actor=None, name=name, destinations=organisations)


def cases_of(report):
    from locus.cases.models import Case

    with place_scope(report.place):
        return {
            case.organisation: case
            for case in Case.objects.filter(report=report).select_related("decision")
        }


def team_case(place_world, *, evidence=True):
    """A case of the place's own team (reused when one exists): for the isolation battery."""
    from locus.cases.models import Case

    place = place_world.place
    with place_scope(place):
        case = Case.objects.filter(organisation=place_world.organisation).first()
        if case is None:
            route_to(place, [place_world.organisation], name="Team")
            report = submit(place, evidence=evidence)
            case = Case.objects.get(report=report, organisation=place_world.organisation)
        return case


def another_team_case(place_world, data=None):
    """A new report routed to the place's own team (the rule of team_case), and its case."""
    from locus.cases.models import Case

    team_case(place_world, evidence=False)  # makes sure the team rule exists
    place = place_world.place
    report = submit(place, data)
    with place_scope(place):
        return Case.objects.get(report=report, organisation=place_world.organisation)


def merged_team_case(place_world):
    """A team case merged into another team case (for split)."""
    from locus.cases.services import case_merge

    primary = team_case(place_world, evidence=False)
    duplicate = another_team_case(place_world)
    with place_scope(place_world.place):
        return case_merge(
            case=duplicate, membership=place_world.memberships["caseworker"], into=primary
        )


def closed_team_case(place_world):
    """A closed team case (for reopen)."""
    from locus.cases.services import case_close

    case = another_team_case(place_world)
    with place_scope(place_world.place):
        return case_close(
            case=case, membership=place_world.memberships["caseworker"], outcome="supported"
        )


def support_organisation(place_world, name=None):
    """A victim-support charity listed in the place: REPORT's consent lets it receive reports
    (hand-on)."""
    from locus.core.testing.factories import OrganisationFactory
    from locus.directory.choices import OrganisationType
    from locus.directory.services import organisation_list_in_place

    organisation = OrganisationFactory(
        name=name or f"{place_world.place.name} Victim Support",
        type=OrganisationType.VICTIM_SUPPORT,
    )
    with place_scope(place_world.place):
        organisation_list_in_place(organisation=organisation, place=place_world.place)
    return organisation
