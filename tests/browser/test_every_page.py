"""Every page of the app, as the person who would see it, checked with axe and photographed.

Each test walks a group of pages and collects the axe violations of all of them, so that one
run lists every page that needs fixing. Screenshots land in /tmp/shots/every/ for a person to
look at. Signing in goes through the login and TOTP pages once (for the administrator); the
other people get a session made on the server side, which is much faster.
"""

import os
import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import SHOTS, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

EVERY = os.path.join(SHOTS, "every")


@pytest.fixture
def world(transactional_db):
    """The two-place world, committed, so that the live server's thread sees it."""
    from locus.core.testing.world import build_world

    return build_world()


@pytest.fixture
def pages(check_axe):
    """`pages.check(page, name)`: axe on the page as it is now, plus a full-page screenshot.

    Violations are collected, not raised at once; the test fails at teardown with all of them.
    """

    class Pages:
        failures = []

        def check(self, page, name):
            os.makedirs(EVERY, exist_ok=True)
            page.screenshot(path=os.path.join(EVERY, f"{name}.png"), full_page=True)
            try:
                check_axe(page)
            except pytest.fail.Exception as exc:
                self.failures.append(f"[{name}] {exc}")

        def visit(self, page, path, name, *, status=200, lands=None):
            """Open `path`, expecting `status` at `lands` (a regex; by default `path` itself)."""
            response = page.goto(path)
            assert response is not None and response.status == status, (
                f"{path}: {response and response.status}, expected {status}"
            )
            expect(page).to_have_url(re.compile(lands or re.escape(path) + "$"))
            self.check(page, name)
            return response

    collected = Pages()
    yield collected
    if collected.failures:
        pytest.fail("\n\n".join(collected.failures), pytrace=False)


def log_in(page, user, live_server):
    """Start a signed-in session for `user` (password and TOTP just used) in the page's browser."""
    from django.conf import settings
    from django.contrib.auth import login
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = SessionStore()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    now = time.time()
    # As allauth records a completed sign-in, so that its pages need no re-authentication.
    request.session["account_authentication_methods"] = [
        {"method": "password", "at": now, "email": user.email, "reauthenticated": True},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    request.session["account_authentication_methods_user"] = str(user.pk)
    request.session.save()
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": request.session.session_key,
                "url": live_server.url,
            }
        ]
    )


def test_public_pages(page, world, pages):
    from django.utils import timezone

    from locus.accounts.services import invitation_create

    pages.visit(page, "/", "index")
    pages.visit(page, "/alpha/", "place_home")
    expect(page.get_by_role("link", name="Quick exit")).to_be_visible()
    pages.visit(page, "/accounts/login/", "login")
    pages.visit(page, "/accounts/password/reset/", "password_reset")
    pages.visit(page, "/nowhere/at/all/", "404_anonymous", status=404)

    links = {}
    for email in ("new.person@example.test", "late.person@example.test"):
        invitation, links[email] = invitation_create(
            actor_membership=world.a.memberships["admin"],
            email=email,
            role="member",
            place=world.a.place,
            accept_url_builder=lambda secret: f"/invitations/{secret}/",
        )
    pages.visit(page, links["new.person@example.test"], "invitation_accept")
    expect(page.get_by_label("Your name")).to_be_visible()
    invitation.expires_at = timezone.now() - timedelta(days=1)
    invitation.save(update_fields=["expires_at"])
    pages.visit(page, links["late.person@example.test"], "invitation_expired", status=410)


def test_an_administrators_pages(page, world, pages, sign_in, live_server):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from locus.core.services import job_create
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import PASSWORD

    admin = world.a.users["admin"]
    RecoveryCodes.activate(admin)
    with place_scope(world.a.place):
        job = job_create(
            place=world.a.place, kind="areas.import", title="Import wards.geojson", created_by=admin
        )

    sign_in(page, admin)  # the login and TOTP code pages, with axe
    expect(page).to_have_url(re.compile(r"/alpha/staff/$"))
    pages.check(page, "staff_home_admin")

    pages.visit(page, "/alpha/staff/areas/", "areas")
    submit(page.get_by_role("button", name="Import"))  # no file chosen
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "areas_error")

    pages.visit(page, "/alpha/staff/settings/", "settings")
    page.get_by_label("Suppression threshold").fill("0")
    submit(page.get_by_role("button", name="Save settings"))
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "settings_error")

    pages.visit(page, "/alpha/staff/jobs/", "jobs")
    expect(page.get_by_text("Import wards.geojson")).to_be_visible()
    pages.visit(page, f"/alpha/staff/jobs/{job.pk}/", "job")
    pages.visit(page, "/alpha/staff/jobs/999999/", "404", status=404)

    pages.visit(page, "/alpha/staff/members/", "members")
    page.get_by_label("E-mail address").fill(world.a.users["member"].email)  # already a member
    submit(page.get_by_role("button", name="Send invitation"))
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "members_error")

    # A token about to expire and one expired: the warning above the list and their states.
    from django.utils import timezone

    from locus.accounts.models import ApiToken
    from locus.accounts.services import token_create

    for name, left in (("old export", timedelta(days=-2)), ("nightly sync", timedelta(days=3))):
        token, _secret = token_create(membership=world.a.memberships["admin"], name=name)
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + left)
    pages.visit(page, "/alpha/staff/tokens/", "tokens")
    expect(page.locator("#expiring-soon")).to_be_visible()
    expect(page.get_by_text("Expires in 3 days")).to_be_visible()
    expect(page.get_by_text("Expired", exact=True)).to_be_visible()
    page.get_by_label("Token name").fill("weekly export script")
    page.get_by_label("Works for").select_option("30")
    submit(page.get_by_role("button", name="Create token"))
    expect(page.locator("#new-token")).to_be_visible()
    pages.check(page, "tokens_secret")

    pages.visit(page, "/accounts/2fa/", "mfa_index")
    # Seeing the recovery codes asks for the password again first.
    pages.visit(page, "/accounts/2fa/recovery-codes/", "reauthenticate", lands=r"/reauthenticate/")
    page.get_by_label("Password").fill(PASSWORD)
    submit(page.get_by_role("button", name="Confirm"))
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    expect(page.get_by_label("Unused codes")).to_be_visible()
    pages.check(page, "mfa_recovery_codes")
    pages.visit(page, "/accounts/logout/", "logout")


def test_other_peoples_pages(page, world, pages, live_server):
    from locus.accounts.models import Membership, NetworkMembership
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import OrganisationFactory, UserFactory
    from locus.core.testing.world import enable_totp
    from locus.directory.services import organisation_list_in_place

    log_in(page, world.a.users["member"], live_server)
    pages.visit(page, "/alpha/staff/", "staff_home_member")
    pages.visit(page, "/alpha/staff/areas/", "403", status=403)

    log_in(page, world.a.users["analyst"], live_server)
    pages.visit(page, "/alpha/staff/", "staff_home_analyst")

    trust = OrganisationFactory(name="Öresund Trust")
    for side in (world.a, world.b):
        with place_scope(side.place):
            organisation_list_in_place(organisation=trust, place=side.place)
    both = UserFactory(email="both@trust.test", name="Both Places")
    enable_totp(both)
    Membership.objects.create(user=both, organisation=trust, role="coordinator")
    log_in(page, both, live_server)
    pages.visit(page, "/accounts/home/", "accounts_home")

    viewer = UserFactory(email="viewer@network.test", name="Network Viewer")
    NetworkMembership.objects.create(user=viewer, network=world.a.place.network)
    log_in(page, viewer, live_server)
    pages.visit(page, f"/network/{world.a.place.network.slug}/", "network")

    newcomer = UserFactory(email="new.caseworker@alpha.test", name="New Caseworker")
    Membership.objects.create(user=newcomer, organisation=world.a.organisation, role="caseworker")
    log_in(page, newcomer, live_server)
    pages.visit(page, "/alpha/staff/", "mfa_totp_activate", lands=r"/accounts/2fa/totp/activate/")


def test_pages_in_swedish(page, world, pages, live_server):
    log_in(page, world.a.users["admin"], live_server)
    page.context.add_cookies([{"name": "django_language", "value": "sv", "url": live_server.url}])

    pages.visit(page, "/alpha/", "sv_place_home")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    pages.visit(page, "/alpha/staff/", "sv_staff_home")
    expect(page.locator("html")).to_have_attribute("lang", "sv")


# --- Alerts and context indicators (locus/alerts, locus/places/indicator_*) -----------------


def test_alerts_and_context_pages(page, world, pages, live_server, tmp_path):
    from datetime import date, timedelta

    from locus.alerts.models import Alarm
    from locus.alerts.tests.helpers import report, save
    from locus.core.tenancy import place_scope
    from locus.places.indicator_services import indicators_import

    a = world.a
    north, south = a.areas
    with place_scope(a.place):
        for area, population in ((north, 8000), (south, 12000)):
            area.population = population
            area.save()
        Alarm.objects.create(
            place=a.place,
            week=date(2026, 3, 2),
            series_key=f"area:{north.pk}|bias:antisemitism",
            area=north,
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
        indicators_import(
            place=a.place,
            raw="area,indicator,value,year\n"
            "Alphaville North,Deprivation score,31.2,2019\n"
            "Alphaville South,Deprivation score,14.8,2019\n",
        )
    day = date.today() - timedelta(days=3)
    save(a.place, [report(a.place, day, area=north) for _ in range(12)])
    save(a.place, [report(a.place, day, area=south) for _ in range(5)])

    log_in(page, a.users["coordinator"], live_server)
    pages.visit(page, "/alpha/insights/alerts/", "alerts")
    page.get_by_role("link", name="2 Mar 2026").click()
    expect(page.locator("svg rect")).not_to_have_count(0)
    pages.check(page, "alarm")
    pages.visit(page, "/alpha/insights/alerts/", "alerts_again")
    expect(page.get_by_role("link", name="Alerts")).to_be_visible()
    page.get_by_label("Antisemitism").check()
    submit(page.get_by_role("button", name="Save subscription"))
    expect(page.get_by_text("Subscription saved.")).to_be_visible()
    pages.check(page, "alerts_subscribed")

    pages.visit(page, "/alpha/insights/context/", "context")
    expect(page.locator("svg.scatter circle")).to_have_count(2)
    pages.visit(page, "/alpha/insights/context/import/", "indicator_import")
    bad = tmp_path / "indicators.csv"
    bad.write_text("area,indicator,value,year\nAtlantis,Score,x,2020\n", encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(bad))
    submit(page.get_by_role("button", name="Import"))
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "indicator_import_error")

    # A partner's caseworker: the staff home offers the open data and the organisation's
    # alerts; the notices say the week, the area and the category only.
    from locus.alerts.selectors import last_complete_week
    from locus.core.testing.world import partner_member

    with place_scope(a.place):
        recent = Alarm.objects.create(
            place=a.place,
            week=last_complete_week(date.today()),
            series_key="place|bias:antisemitism",
            axis="bias",
            category="antisemitism",
            method="ears",
            observed=47,
            expected=4.1,
            upper_bound=11,
            p_value=0.00004,
            q_value=0.002,
            score=2.4,
            reports=23,
            series_judged=120,
        )
    log_in(page, partner_member(a, "caseworker").user, live_server)
    pages.visit(page, "/alpha/staff/", "staff_home_partner")
    expect(page.get_by_role("link", name="Open data").first).to_be_visible()
    expect(page.get_by_role("link", name="Insights")).to_have_count(0)
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Alerts").click()
    expect(page).to_have_url(re.compile(r"/alpha/insights/alerts/subscription/$"))
    pages.check(page, "alerts_partner")
    page.get_by_label("Antisemitism").check()
    submit(page.get_by_role("button", name="Save subscription"))
    expect(page.get_by_text("Subscription saved.")).to_be_visible()
    expect(page.locator(f"#alarm-{recent.pk}")).to_contain_text("all of Alphaville")
    expect(page.locator("main")).not_to_contain_text("47")  # the observed count
    pages.check(page, "alerts_partner_subscribed")


# --- Directory (locus/directory) ---------------------------------------------------------------


def test_directory_pages(page, world, pages, live_server):
    from locus.directory.tests.factories import (
        listed_organisation,
        make_partnership,
        make_service,
    )

    a = world.a
    north, south = a.areas
    charity = listed_organisation(a.place, "Hate Support North")
    other = listed_organisation(a.place, "Second Support")
    make_service(a.place, charity, name="Casework", areas=[north], target_groups=["muslim_people"])
    make_service(a.place, other, name="Advocacy", areas=[north], target_groups=["muslim_people"])
    youth = make_service(
        a.place,
        charity,
        name="Youth club",
        service_type="youth_work",
        areas=[south],
        target_groups=["young_people"],
        min_age=11,
        max_age=19,
    )
    make_partnership(a.place, charity, other)
    make_partnership(a.place, a.organisation, charity, "funding")

    # The public directory, without signing in.
    pages.visit(page, "/alpha/services/", "directory_public")
    page.get_by_label("What kind of help").select_option("victim_support")
    submit(page.get_by_role("button", name="Search"))
    expect(page.get_by_role("link", name="Casework")).to_be_visible()
    pages.check(page, "directory_public_search")
    pages.visit(page, f"/alpha/services/{youth.pk}/", "directory_public_service")

    log_in(page, a.users["coordinator"], live_server)
    pages.visit(page, "/alpha/directory/", "directory_index")
    pages.visit(page, f"/alpha/directory/organisations/{charity.pk}/", "directory_organisation")
    pages.visit(
        page, f"/alpha/directory/organisations/{charity.pk}/services/new/", "directory_service_new"
    )
    page.get_by_label("Name").fill("Drop-in")
    submit(page.get_by_role("button", name="Save the service"))
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "directory_service_error")
    pages.visit(page, "/alpha/directory/coverage/", "directory_coverage")
    expect(page.locator("#coverage-map path")).to_have_count(2)
    page.locator("#coverage-map path").first.hover()  # the name, as text (coverage-map.js)
    expect(page.locator(".leaflet-tooltip")).to_contain_text("Alphaville")
    page.locator(f'a[href*="area={north.pk}&cell=victim_support"]').first.click()
    expect(page.locator("#providers")).to_contain_text("Second Support")
    pages.check(page, "directory_coverage_cell")
    pages.visit(page, "/alpha/directory/pathways/", "directory_pathways")
    pages.visit(page, "/alpha/directory/network/", "directory_network")
    expect(page.locator("svg.network-svg line")).to_have_count(2)
    pages.visit(page, "/alpha/directory/import/", "directory_import")
    pages.visit(page, "/alpha/directory/settings/", "directory_settings")
    pages.visit(page, "/alpha/directory/organisations/new/", "directory_organisation_new")
    page.get_by_label("Inbox e-mail address").fill("not an address")
    submit(page.get_by_role("button", name="Add the organisation"))
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "directory_organisation_new_error")


# --- Programmes and M&E (locus/programmes) ---------------------------------------------------


def test_programme_pages(page, world, pages, live_server):
    from locus.programmes.tests.factories import full_programme

    data = full_programme(world.a)
    p, period, survey = data["programme"], data["period"], data["survey"]
    base = f"/alpha/programmes/{p.pk}/"

    page.context.clear_cookies()
    pages.visit(page, f"/alpha/survey/{survey.token}/", "programme_survey_public")
    page.get_by_label("Strongly agree").first.check()
    submit(page.get_by_role("button", name="Send my answers"))
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    pages.check(page, "programme_survey_thanks")

    log_in(page, world.a.users["editor"], live_server)
    pages.visit(page, "/alpha/programmes/", "programmes_list")
    pages.visit(page, "/alpha/programmes/new/", "programme_new")
    pages.visit(page, base, "programme_detail")
    expect(page.locator("svg.toc-diagram")).to_be_visible()
    pages.visit(page, base + "theory-of-change/", "programme_toc")
    pages.visit(page, base + "indicators/new/", "programme_indicator_new")
    pages.visit(page, base + f"periods/{period.pk}/", "programme_results")
    pages.visit(page, base + f"periods/{period.pk}/report/", "programme_report")
    pages.visit(page, base + f"surveys/{survey.pk}/", "programme_survey")
    pages.visit(page, base + f"indicators/{data['outcome'].pk}/survey/new/", "programme_survey_new")

    log_in(page, world.a.users["analyst"], live_server)
    pages.visit(page, "/alpha/programmes/portfolio/", "programmes_portfolio")


# --- Open data, exports and network roll-ups (locus/insights/public_*.py) --------------------


def test_open_data_exports_and_network_pages(page, world, pages, live_server):
    from datetime import date

    from locus.accounts.models import NetworkMembership
    from locus.core.testing.factories import UserFactory
    from locus.insights.tests.open_data_helpers import make_many

    north, south = world.a.areas
    day = date(2025, 3, 10)
    make_many(
        world.a.place,
        [
            (day, north, "threat", ["antisemitism"], 12),
            (day, north, "abusive_behaviour", ["anti_muslim"], 3),
            (day, south, "assault", ["anti_roma_sinti"], 15),
            (day, south, "threat", ["antisemitism", "anti_muslim"], 2),
            (day, None, "online_content", ["sexual_orientation"], 11),
        ],
    )
    pages.visit(page, "/alpha/open-data/?month=2025-03", "open_data")
    expect(page.get_by_role("table")).to_contain_text("fewer than 10")
    expect(page.get_by_role("link", name="Open data")).to_be_visible()  # in the footer
    pages.visit(page, "/alpha/open-data/?month=1990-01", "open_data_error", status=422)

    log_in(page, world.a.users["analyst"], live_server)
    pages.visit(page, "/alpha/insights/exports/", "exports")
    page.get_by_label("Scheme").select_option("osce_odihr_submission")
    page.get_by_label("From", exact=True).fill("2025-01-01")
    page.get_by_label("To", exact=True).fill("2025-12-31")
    submit(page.get_by_role("button", name="Show"))
    expect(page.get_by_role("table")).to_contain_text("Threats")
    pages.check(page, "exports_odihr_submission")
    pages.visit(
        page,
        "/alpha/insights/exports/?scheme=se_bra&start=2025-12-01&end=2025-01-01",
        "exports_error",
        status=422,
    )

    viewer = UserFactory(email="hub@network.test", name="National Hub")
    NetworkMembership.objects.create(user=viewer, network=world.a.place.network)
    log_in(page, viewer, live_server)
    slug = world.a.place.network.slug
    pages.visit(page, f"/network/{slug}/insights/?month=2025-03", "network_insights")
    expect(page.get_by_role("table")).to_contain_text("Alphaville")


# --- Insights dashboard, service figures and annotations (locus/insights) -----------------


def test_insights_pages(page, world, pages, live_server):
    """The dashboard (with data, an annotation, the map drawn by JavaScript), the service
    page and the annotation pages, as an analyst of the place team; axe clean."""
    from datetime import timedelta

    from django.utils import timezone

    from locus.core.tenancy import place_scope
    from locus.insights.services import annotation_create
    from locus.insights.tests.helpers import add_case, add_report

    a = world.a
    today = timezone.localdate()
    with place_scope(a.place):
        for area, population in zip(a.areas, (8000, 12000), strict=True):
            area.population = population
            area.save()
        for i in range(60):
            report = add_report(
                a.place,
                today - timedelta(days=(i * 5) % 330),
                area=a.areas[i % 2],
                bias=("antisemitism",) if i % 3 else ("anti_black", "gender"),
                url="https://x.com/a/1" if i % 7 == 0 else "",
            )
            if i % 2:
                add_case(report, a.organisation)
        annotation = annotation_create(
            place=a.place,
            starts_on=today - timedelta(days=60),
            ends_on=today - timedelta(days=54),
            text="Trigger event abroad",
        )

    log_in(page, a.users["analyst"], live_server)
    pages.visit(page, "/alpha/insights/", "insights_dashboard")
    expect(page.locator("#insights-map path.area").first).to_be_attached()
    page.locator("#insights-map path.area").first.hover()  # the name, as text (choropleth.js)
    expect(page.locator(".leaflet-tooltip")).to_contain_text("Alphaville")
    expect(page.locator("svg.chart-svg").first).to_be_visible()
    page.get_by_text("Table of this chart").first.click()
    pages.check(page, "insights_dashboard_table_open")
    pages.visit(
        page, "/alpha/insights/?grain=W&bias=antisemitism&basis=v", "insights_dashboard_weeks"
    )
    pages.visit(
        page, "/alpha/insights/?start=2026-05-01&end=2026-01-01", "insights_dashboard_error"
    )
    pages.visit(page, "/alpha/insights/service/", "insights_service")
    pages.visit(page, "/alpha/insights/annotations/", "insights_annotations")
    pages.visit(page, f"/alpha/insights/annotations/{annotation.pk}/", "insights_annotation_edit")
    pages.visit(
        page, f"/alpha/insights/annotations/{annotation.pk}/delete/", "insights_annotation_delete"
    )
