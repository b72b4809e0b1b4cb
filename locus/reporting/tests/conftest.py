"""A report being followed up: sent in place A (Alphaville) through the real services and routed
to three organisations — the city's own team (the whole report), a victim-support charity (the
whole report, with an inbox address and a webhook endpoint) and a platform's trust & safety
desk (the public online content only)."""

import io
import secrets
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

ACCOUNT = "I found this post calling for people like my family to be driven out."
EMAIL = "finder@example.org"
POLICE_REFERENCE = "CR-5566"
LOCATION = "Near 4 Quay Street"
INBOX = "inbox@hope.example"
HOOK = "https://hooks.example.org/hope"
DATA = {
    "incident_type": "online_content",
    "reporter_role": "found_online",
    "bias": ["antisemitism"],
    "setting": "online",
    "platform": "x_twitter",
    "content_url": "https://x.com/someone/status/1",
    "account": ACCOUNT,
    "location_text": LOCATION,
    "already_reported": ["police"],
    "police_reference": POLICE_REFERENCE,
    "consent_support_contact": True,
    "contact": {"name": "Noor", "email": EMAIL},
}


def jpeg(name="photo.jpg", colour="red"):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def text_file(name="notes.txt", content=b"What the post said, copied by hand.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


@dataclass
class Followed:
    side: object  # the PlaceWorld
    report: object
    code: str
    team: object
    support: object
    platform: object

    @property
    def place(self):
        return self.side.place

    def cases(self):
        from locus.cases.models import Case
        from locus.core.tenancy import place_scope

        with place_scope(self.place):
            return {
                case.organisation_id: case
                for case in Case.objects.filter(report=self.report).select_related("decision")
            }

    def case_of(self, organisation):
        return self.cases()[organisation.pk]

    def reload(self):
        from locus.core.tenancy import place_scope
        from locus.reporting.models import Report

        with place_scope(self.place):
            self.report = Report.objects.get(pk=self.report.pk)
        return self.report


def send_and_route(place, data=None, *, files=()):
    """Send a report through the services, route it, and return (report, follow-up code)."""
    from locus.cases.services import report_route
    from locus.core.tenancy import place_scope
    from locus.reporting.services import evidence_stage, report_submit

    with place_scope(place):
        token = secrets.token_hex(16)
        for uploaded in files:
            evidence_stage(place=place, uploaded=uploaded, staged_token=token)
        submitted = report_submit(
            place=place, data=dict(DATA if data is None else data), staged_token=token
        )
        report_route(report=submitted.report)  # idempotent: routed once whoever runs first
        submitted.report.refresh_from_db()
        return submitted.report, submitted.followup_code


@pytest.fixture
def followed(world, in_place):
    from locus.cases.tests.factories import route_to
    from locus.core.testing.factories import OrganisationFactory
    from locus.directory.choices import OrganisationType
    from locus.directory.models import OrganisationListing
    from locus.directory.services import organisation_list_in_place
    from locus.outbox.services import webhook_endpoint_create

    side = world.a
    place = side.place
    support = OrganisationFactory(name="Hope Support", type=OrganisationType.VICTIM_SUPPORT)
    platform = OrganisationFactory(name="Chirp Trust & Safety", type=OrganisationType.COMPANY)
    with in_place(place):
        for organisation in (support, platform):
            organisation_list_in_place(organisation=organisation, place=place)
        OrganisationListing.objects.filter(place=place, organisation=support).update(
            inbox_email=INBOX
        )
        webhook_endpoint_create(place=place, organisation=support, url=HOOK)
    route_to(place, [side.organisation, support, platform])
    report, code = send_and_route(place, files=[jpeg()])
    return Followed(
        side=side,
        report=report,
        code=code,
        team=side.organisation,
        support=support,
        platform=platform,
    )
