"""Staff pages on a phone (360 × 740), as the caseworker, the coordinator and the
administrator use them: no page scrolls sideways, and the column that decides (a case's
status, whether an organisation receives a sample report, a delivery's result, a job's state)
is on the screen, not off its right edge in a scrolling box. Such tables stack on a narrow
screen (`table-stack`, locus.css): each row a block, each cell beside its column's name. Every
page is checked with axe; screenshots land in /tmp/shots/phone/."""

from datetime import date
from unittest import mock

import pytest
from playwright.sync_api import expect

from locus.cases.tests.conftest import partners, rule_in  # noqa: F401

from .conftest import submit
from .test_every_page import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world

    return build_world()


@pytest.fixture
def on_phone(page, check_axe, shot):
    """`on_phone(path_or_none, name, *columns)`: open the page (or take it as it is), check it
    fits the phone's width and passes axe, and that each named column of its stacked tables is
    on the screen, its cells beside their column's name."""
    page.set_viewport_size(PHONE)

    def check(path, name, *columns):
        if path is not None:
            response = page.goto(path)
            assert response.status == 200, (path, response.status)
        shot(page, f"phone/{name}")
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0, (name, overflow)
        for column in columns:
            cells = page.locator(f"table.table-stack td[data-label='{column}']")
            assert cells.count() > 0, (name, column)
            first = cells.first
            first.scroll_into_view_if_needed()
            expect(first).to_be_visible()
            box = first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, column)
            # The column's name is drawn beside the value, for the eye only.
            drawn = first.evaluate("c => getComputedStyle(c, '::before').content")
            assert column in drawn, (name, column, drawn)
        # No stacked table is left scrolling in its box.
        scrolling = page.locator(".table-scroll:has(> table.table-stack)").evaluate_all(
            "boxes => boxes.filter(b => b.scrollWidth > b.clientWidth + 1).length"
        )
        assert scrolling == 0, name
        check_axe(page)

    return check


def test_a_caseworkers_pages_fit_a_phone(page, world, live_server, on_phone):
    from locus.cases.tests.factories import team_case

    a = world.a
    case = team_case(a, evidence=False)
    log_in(page, a.users["caseworker"], live_server)
    on_phone("/alpha/staff/cases/", "inbox", "Status", "Assigned to", "Within the target")
    # Each case still leads to its page, its reference beside its name.
    expect(page.get_by_role("link", name=case.report.reference)).to_be_visible()
    on_phone(f"/alpha/staff/cases/{case.pk}/", "case")
    on_phone("/alpha/insights/alerts/subscription/", "alert_subscription")
    page.context.add_cookies([{"name": "django_language", "value": "sv", "url": live_server.url}])
    on_phone("/alpha/insights/alerts/subscription/", "alert_subscription_sv")


def test_a_coordinators_pages_fit_a_phone(
    page,
    world,
    live_server,
    on_phone,
    partners,  # noqa: F811
    rule_in,  # noqa: F811
):
    from locus.alerts.models import Alarm
    from locus.core.tenancy import place_scope
    from locus.directory.tests.factories import make_partnership, make_service
    from locus.insights.services import annotation_create
    from locus.programmes.tests.factories import full_programme

    a = world.a
    coordinator = a.users["coordinator"]
    rule = rule_in(
        a,
        actor=coordinator,
        name="Everything else",
        is_fallback=True,
        destinations=[partners.team, partners.charity],
    )
    full_programme(a)
    make_service(a.place, partners.charity, areas=a.areas)
    make_partnership(a.place, partners.charity, partners.police)
    with place_scope(a.place):
        annotation_create(
            place=a.place,
            starts_on=date(2026, 3, 2),
            ends_on=date(2026, 3, 8),
            text="Trigger event abroad, and a long sentence about what followed in the city",
        )
        alarm = Alarm.objects.create(
            place=a.place,
            week=date(2026, 3, 2),
            series_key="all|bias:antisemitism",
            axis="bias",
            category="antisemitism",
            method="ears",
            observed=31,
            expected=5.3,
            upper_bound=14,
            p_value=0.00002,
            q_value=0.0008,
            score=2.9,
            reports=44,
            series_judged=120,
        )
    log_in(page, coordinator, live_server)
    on_phone("/alpha/staff/routing/", "rules", "What")
    # A rule's page, and its preview on a sample report: who receives it is on the screen.
    on_phone(f"/alpha/staff/routing/{rule.pk}/", "rule", "What")
    sample = page.get_by_role("region", name="Try it on a sample report")
    sample.get_by_label("What happened").select_option("threat")
    submit(page.get_by_role("button", name="Try the rule as edited"))
    on_phone(None, "rule_preview", "Receives it?", "What the reporter is told")
    expect(
        page.get_by_role("table", name="With the rule as edited")
        .get_by_role("cell", name="Yes", exact=False)
        .first
    ).to_be_visible()
    on_phone(
        "/alpha/staff/routing/try/?sample-incident_type=assault&sample-setting="
        "&sample-platform=&sample-content_url=&sample-area=&sample-language=en",
        "rules_try",
        "Receives it?",
    )
    on_phone("/alpha/insights/alerts/", "alerts", "Status", "Observed")
    on_phone(f"/alpha/insights/alerts/{alarm.pk}/", "alarm")
    # In German the alerts' area filter ("Alle Bezirke und die ganze Kommune") stayed wider
    # than its panel, and the page: a field of a row of filters now shrinks to the row.
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    on_phone("/alpha/insights/alerts/", "alerts_de", "Status")
    page.context.add_cookies([{"name": "django_language", "value": "sv", "url": live_server.url}])
    on_phone(f"/alpha/insights/alerts/{alarm.pk}/", "alarm_sv")
    page.context.clear_cookies(name="django_language")
    on_phone("/alpha/insights/", "insights")
    on_phone("/alpha/insights/annotations/", "annotations", "What happened")
    on_phone("/alpha/insights/service/", "service", "Within target", "Index")
    on_phone("/alpha/programmes/portfolio/", "portfolio", "Status", "Progress")
    on_phone("/alpha/directory/", "directory", "Checked")
    on_phone(f"/alpha/directory/organisations/{partners.charity.pk}/", "organisation", "Where")
    on_phone("/alpha/directory/network/", "directory_network", "Partner", "Checked")
    on_phone("/alpha/staff/jobs/", "jobs_coordinator")
    on_phone("/alpha/directory/coverage/", "coverage")
    # The matrix scrolls in its box (a matrix reads across); its caption stays on the screen.
    caption = page.locator("#matrix-caption")
    caption.scroll_into_view_if_needed()
    box = caption.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    on_phone("/alpha/directory/pathways/", "pathways")
    on_phone("/alpha/staff/", "staff_home")


def test_an_administrators_pages_fit_a_phone(
    page,
    world,
    live_server,
    on_phone,
    partners,  # noqa: F811
):
    from django.db import transaction
    from django.utils import timezone

    from locus.accounts.services import token_create
    from locus.core.services import job_create
    from locus.core.tenancy import place_scope
    from locus.outbox.models import DeliveryAttempt, WebhookEndpoint
    from locus.outbox.services import outbox_enqueue_webhook
    from locus.programmes.tests.factories import full_programme

    a = world.a
    admin = a.users["admin"]
    full_programme(a)
    with place_scope(a.place):
        endpoint = WebhookEndpoint.objects.get(organisation=a.organisation)
        # Queued, not sent: the test's immediate task backend would look up the address.
        with transaction.atomic(), mock.patch("locus.outbox.services._kick"):
            message = outbox_enqueue_webhook(
                place=a.place,
                endpoint=endpoint,
                event_type="report.routed",
                payload={"case": 1},
                source=("cases.case", 1),
            )
        DeliveryAttempt.objects.create(
            place=a.place, message=message, at=timezone.now(), status_code=503
        )
        job = job_create(
            place=a.place, kind="areas.import", title="Import wards.geojson", created_by=admin
        )
    token_create(membership=a.memberships["admin"], name="Nightly export to the council's data hub")
    log_in(page, admin, live_server)
    on_phone("/alpha/staff/webhooks/", "webhooks", "State", "Deliveries")
    on_phone(f"/alpha/staff/webhooks/{endpoint.pk}/", "delivery_log", "Status", "Last answer")
    on_phone("/alpha/staff/jobs/", "jobs", "Status")
    on_phone(f"/alpha/staff/jobs/{job.pk}/", "job")
    on_phone("/alpha/staff/cases/targets/", "targets")
    on_phone("/alpha/staff/settings/", "settings")
    on_phone("/alpha/staff/members/", "members", "Role")
    on_phone("/alpha/staff/areas/", "areas", "Population")
    on_phone("/alpha/staff/tokens/", "tokens", "Expires", "Last used")
    on_phone("/alpha/programmes/", "programmes", "Status", "Progress")


def test_an_editors_programme_page_fits_a_phone(page, world, live_server, on_phone):
    """The reporting periods' Report column (the web page and the PDFs) was off the screen."""
    from locus.programmes.tests.factories import full_programme

    made = full_programme(world.a)
    programme, period = made["programme"], made["period"]
    log_in(page, world.a.users["editor"], live_server)
    # Its theory of change and indicator tables scroll in their boxes at 360 px: each box is
    # focusable and named (axe), so that a keyboard can scroll it.
    on_phone(f"/alpha/programmes/{programme.pk}/", "programme", "Results", "Report")
    on_phone(f"/alpha/programmes/{programme.pk}/periods/{period.pk}/report/", "programme_report")
