"""Casework pages in a real browser, checked with axe: the inbox with a group, overdue and unread
cases and the handling figures; the case page with its group, suggested duplicates, the
thread with the reporter and a refused hand-on; the targets page with errors. Every action
is a plain form, so none needs JavaScript."""

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, axe, browser, check_axe, page, submit  # noqa: F401
from tests.browser.test_every_page import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

ACCOUNT = (
    "Two men followed me from the tram stop on Market Street shouting abuse about my "
    "headscarf, then one of them spat at me and they ran towards the park."
)


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world

    return build_world()


def test_casework_pages(page, world, check_axe, live_server):  # noqa: F811 - fixtures
    from django.utils import timezone

    from locus.cases.choices import MessageDirection
    from locus.cases.models import Case, CaseMessage
    from locus.cases.services import case_targets_set
    from locus.core.tenancy import place_scope

    from .factories import ONLINE, REPORT, cases_of, route_to, support_organisation
    from .factories import submit as send

    side = world.a
    route_to(side.place, [side.organisation], name="Team")
    police = support_organisation(side, name="Alphaville Police")
    police.type = "police"
    police.save()
    for _ in range(3):
        send(side.place, ONLINE)
    first = send(side.place, REPORT | {"account": ACCOUNT, "consent_police_anonymised": False})
    second = send(side.place, REPORT | {"account": ACCOUNT})
    with place_scope(side.place):
        case_targets_set(
            place=side.place,
            membership=side.memberships["admin"],
            acknowledge_target_hours=24,
            close_target_days=10,
        )
        case = cases_of(first)[side.organisation]
        Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(days=2))
        CaseMessage.objects.create(
            place=side.place,
            case=case,
            direction=MessageDirection.FROM_REPORTER,
            body="It happened again this morning.",
        )

    log_in(page, side.users["caseworker"], live_server)
    page.goto("/alpha/staff/cases/")
    expect(page.get_by_text("reported 3 times")).to_be_visible()
    expect(page.get_by_text("1 overdue case", exact=True)).to_be_visible()
    expect(
        page.get_by_role("heading", name="How Alphaville Council handles its cases")
    ).to_be_visible()
    check_axe(page)
    submit(page.get_by_role("link", name="See these reports"))
    expect(page.get_by_text("Back to the whole inbox")).to_be_visible()
    check_axe(page)

    page.goto(f"/alpha/staff/cases/{case.pk}/")
    expect(page.get_by_text("It happened again this morning.")).to_be_visible()
    expect(page.get_by_role("heading", name="Possible duplicates")).to_be_visible()
    expect(
        page.get_by_role("button", name=f"Merge this case into {second.reference}")
    ).to_be_visible()
    check_axe(page)

    # A hand-on the reporter's consent does not allow: refused, the reason next to the field.
    page.get_by_label("Hand the report on to").select_option(label="Alphaville Police")
    response = submit(page.get_by_role("button", name="Hand the report on"))
    assert response.status == 422
    expect(
        page.get_by_text("did not agree to share this report with the police").first
    ).to_be_visible()
    check_axe(page)

    page.get_by_label("Message to the reporter").fill("Thank you. Are you safe now?")
    submit(page.get_by_role("button", name="Send to the reporter"))
    expect(page.get_by_text("Message sent to the reporter.")).to_be_visible()
    submit(page.get_by_role("button", name=f"Merge this case into {second.reference}"))
    expect(page.get_by_text(f"This case is merged into case {second.reference}")).to_be_visible()
    check_axe(page)

    log_in(page, side.users["admin"], live_server)
    page.goto("/alpha/staff/cases/targets/")
    page.get_by_label("Acknowledge a new case within (hours)").fill("0")
    response = submit(page.get_by_role("button", name="Save targets"))
    assert response.status == 422
    check_axe(page)


@pytest.mark.parametrize(("width", "height"), [(360, 740), (1280, 800)])
def test_long_classification_labels_are_shown_whole(
    page,  # noqa: F811 - fixture
    world,
    check_axe,  # noqa: F811 - fixture
    live_server,
    width,
    height,
):
    """The case page's classification selects (and the inbox's incident type filter) wrap a long
    German label instead of cutting it off, on a phone as on a laptop (locus.css, select-wrap)."""
    from locus.cases.models import Case
    from locus.core.tenancy import place_scope
    from locus.reporting.taxonomy import taxonomy
    from tests.browser.test_insights_filters import _check_shown_whole

    from .factories import REPORT, cases_of, route_to
    from .factories import submit as send

    side = world.a
    route_to(side.place, [side.organisation], name="Team")
    report = send(side.place, REPORT)
    with place_scope(side.place):
        case = cases_of(report)[side.organisation]
        Case.objects.filter(pk=case.pk).update(
            verified_incident_type="literature_propaganda", ideology="conspiracy_driven"
        )
    log_in(page, side.users["caseworker"], live_server)
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/alpha/staff/cases/{case.pk}/")
    check_axe(page)
    os.makedirs(SHOTS, exist_ok=True)
    page.locator("select[name=ideology]").scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(SHOTS, f"case-classify-de-{width}.png"))
    labels = taxonomy()
    _check_shown_whole(
        page, "incident_type", labels.label("incident_type", "literature_propaganda", "de")
    )
    _check_shown_whole(page, "ideology", labels.label("ideology", "conspiracy_driven", "de"))
    page.goto("/alpha/staff/cases/?incident_type=literature_propaganda")
    check_axe(page)
    _check_shown_whole(
        page, "incident_type", labels.label("incident_type", "literature_propaganda", "de")
    )
