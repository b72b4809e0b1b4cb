"""The main staff and public journeys, walked in a real browser as a person would.

Every page visited is checked with axe (`check_axe`); the `page` fixture also fails the test
when a page logs a console error (CSP violations among them), a sub-resource fails, or a page
tries to load anything from another host.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from .conftest import TOTP_SECRET, submit, totp_now

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(transactional_db):
    """The two-place world, committed, so that the live server's thread sees it."""
    from locus.core.testing.world import build_world

    return build_world()


def feature(name, lon, lat, **properties):
    from locus.core.testing.factories import square

    return {
        "type": "Feature",
        "properties": {"name": name, **properties},
        "geometry": square(lon, lat),
    }


def test_sign_in_with_totp_lands_on_the_staff_home(page, world, check_axe, sign_in, shot):
    page.goto("/accounts/login/")
    shot(page, "login")

    sign_in(page, world.a.users["admin"])  # password, then the current TOTP code; axe on both

    expect(page).to_have_url(re.compile(r"/alpha/staff/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Alphaville Council")
    expect(page.get_by_text("You work here as Administrator in Alphaville.")).to_be_visible()
    check_axe(page)
    shot(page, "staff_home")


def test_a_wrong_totp_code_is_refused(page, world, check_axe, shot):
    from locus.core.testing.factories import PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(world.a.users["admin"].email)
    page.get_by_label("Password").fill(PASSWORD)
    submit(page.get_by_role("button", name="Sign in"))
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    check_axe(page)
    wrong = f"{(int(totp_now(TOTP_SECRET)) + 1) % 1_000_000:06d}"
    page.get_by_label("Code").fill(wrong)
    submit(page.get_by_role("button", name="Sign in"))

    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    expect(page.get_by_text("Incorrect code.", exact=True)).to_be_visible()  # next to the field
    expect(page.get_by_role("link", name="Code: Incorrect code.")).to_be_visible()  # summary
    expect(page.get_by_label("Code")).to_have_accessible_description(re.compile("Incorrect code"))
    check_axe(page)
    shot(page, "totp_wrong_code")
    expect(page.get_by_role("link", name="Staff sign-in")).to_be_visible()  # still signed out


def test_switch_language_on_a_public_page(page, world, check_axe):
    page.goto("/alpha/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check_axe(page)

    page.locator("select#language-select").select_option("fr")
    submit(page.locator("form.language-switcher").get_by_role("button"))

    expect(page).to_have_url(re.compile(r"/alpha/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("select#language-select")).to_have_value("fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alphaville")
    check_axe(page)


def test_switch_place_from_the_header(page, world, check_axe, sign_in):
    from locus.accounts.models import Membership
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import OrganisationFactory, UserFactory
    from locus.core.testing.world import enable_totp
    from locus.directory.services import organisation_list_in_place

    trust = OrganisationFactory(name="Öresund Trust")
    for side in (world.a, world.b):
        with place_scope(side.place):
            organisation_list_in_place(organisation=trust, place=side.place)
    user = UserFactory(email="both@trust.test", name="Both Places")
    enable_totp(user)
    Membership.objects.create(user=user, organisation=trust, role="coordinator")

    sign_in(page, user)

    # Two workspaces: the person chooses one first.
    expect(page).to_have_url(re.compile(r"/accounts/home/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your workspaces")
    check_axe(page)
    submit(page.get_by_role("button", name="Öresund Trust — Alphaville"))
    expect(page).to_have_url(re.compile(r"/alpha/staff/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Öresund Trust")
    expect(page.locator(".brand-place")).to_contain_text("Alphaville")
    switcher = page.locator("select#context-select")
    expect(switcher.locator("option:checked")).to_have_text("Öresund Trust — Alphaville")
    check_axe(page)

    switcher.select_option(label="Öresund Trust — Betastad")
    submit(page.get_by_role("button", name="Switch"))

    expect(page).to_have_url(re.compile(r"/beta/staff/$"))
    expect(page.locator(".brand-place")).to_contain_text("Betastad")
    expect(page.get_by_text("You work here as Coordinator in Betastad.")).to_be_visible()
    expect(switcher.locator("option:checked")).to_have_text("Öresund Trust — Betastad")
    check_axe(page)


def test_import_areas_and_watch_the_job(page, world, check_axe, sign_in, shot, tmp_path):
    not_json = tmp_path / "wards.geojson"
    not_json.write_text("this is not JSON, just a note about the wards")
    good = tmp_path / "wards-2026.geojson"
    good.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    feature("Harbour Ward", -0.2, 51.4, ref="W01"),
                    feature("Castle Ward", -0.2, 51.38, ref="W02"),
                ],
            }
        )
    )

    sign_in(page, world.a.users["admin"])
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Areas").click()
    expect(page).to_have_url(re.compile(r"/alpha/staff/areas/$"))
    expect(page.get_by_role("heading", name="2 areas")).to_be_visible()
    check_axe(page)

    # A file that is not JSON: the error is shown next to the file field, the rest is kept.
    page.get_by_label("GeoJSON file").set_input_files(not_json)
    page.get_by_label("Code property").fill("ref")
    page.get_by_label("Population property").fill("inhabitants")
    page.get_by_label("Import the valid features and list the others").check()
    submit(page.get_by_role("button", name="Import"))

    file_field = page.locator(".field").filter(has=page.get_by_label("GeoJSON file"))
    expect(file_field).to_have_class(re.compile(r"\bfield-invalid\b"))
    expect(file_field.locator(".errorlist")).to_contain_text("The file is not valid JSON")
    expect(page.get_by_label("GeoJSON file")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("GeoJSON file")).to_have_accessible_description(
        re.compile(r"The file is not valid JSON")  # the error is announced with the field
    )
    expect(page.get_by_label("Code property")).to_have_value("ref")
    expect(page.get_by_label("Population property")).to_have_value("inhabitants")
    expect(page.get_by_label("Name property")).to_have_value("name")
    expect(page.get_by_label("Import the valid features and list the others")).to_be_checked()
    expect(page.get_by_role("heading", name="2 areas")).to_be_visible()  # nothing imported
    check_axe(page)
    shot(page, "areas_invalid_upload")

    # A valid file: the import runs as a job, and the person lands on its page.
    page.get_by_label("GeoJSON file").set_input_files(good)
    submit(page.get_by_role("button", name="Import"))

    expect(page).to_have_url(re.compile(r"/alpha/staff/jobs/\d+/$"))
    status = page.locator("#job-status")
    expect(status.locator(".status")).to_have_text("Succeeded")
    expect(status.locator(".status")).to_have_class(re.compile(r"\bstatus-succeeded\b"))
    expect(status.get_by_text("2 new, 0 updated, 0 skipped.", exact=True)).to_be_visible()
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    check_axe(page)
    shot(page, "job")

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Areas").click()
    expect(page.get_by_role("heading", name="4 areas")).to_be_visible()
    table = page.get_by_role("table", name="Areas")
    expect(table.get_by_role("row", name="Harbour Ward W01")).to_be_visible()
    expect(table.get_by_role("row", name="Castle Ward W02")).to_be_visible()
    check_axe(page)


def test_the_first_tab_reaches_a_visible_skip_link(page, world, check_axe, shot):
    page.goto("/alpha/")
    check_axe(page)

    page.keyboard.press("Tab")

    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    expect(skip).to_be_in_viewport()
    # Visible means on top too: nothing (such as the sticky quick-exit bar) covers it.
    on_top = skip.evaluate(
        """link => {
            const box = link.getBoundingClientRect();
            const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return box.width > 10 && box.height > 10 && link.contains(hit);
        }"""
    )
    shot(page, "skip_link")
    assert on_top, "the focused skip link is covered by another element"

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/alpha/#main$"))
    expect(page.locator("main#main")).to_be_focused()


def test_a_job_announces_each_change_of_state_once(page, world, live_server):
    """WCAG 4.1.3: the job page's live region, never replaced, tells a screen reader "Running",
    then "Succeeded" with the counts, copied from the section htmx replaces at each poll."""
    from locus.core.services import job_create, job_finish, job_start
    from locus.core.tenancy import place_scope
    from locus.places.services import AREA_IMPORT_JOB

    from .test_every_page import log_in

    place = world.a.place
    with place_scope(place):
        job = job_create(place=place, kind=AREA_IMPORT_JOB, title="Import areas from x.geojson")
    log_in(page, world.a.users["admin"], live_server)
    page.goto(f"/alpha/staff/jobs/{job.pk}/")
    region = page.locator("#job-announcement")
    expect(region).to_have_attribute("role", "status")
    with place_scope(place):
        job_start(job=job)
    expect(region).to_have_text("Running")
    with place_scope(place):
        job_finish(job=job, result={"created": 2, "updated": 0, "skipped": 1})
    expect(region).to_have_text("Succeeded 2 new, 0 updated, 1 skipped.")
