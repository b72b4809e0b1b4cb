"""The evidence-and-gap map, the contribution form, "my organisation's records", the review
queue and a review, in a browser, each page checked with axe (tests/browser fixtures)."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, axe, browser, check_axe, page, submit  # noqa: F401
from tests.browser.test_every_page import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world
    from locus.library.services import library_load_demo

    library_load_demo()
    return build_world()


def test_evidence_gap_map(page, check_axe, world):  # noqa: F811
    page.goto("/library/map/")
    expect(page.get_by_role("heading", level=1, name="Evidence-and-gap map")).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_be_visible()
    expect(page.locator(".map-gap").first).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "library-map.png"), full_page=True)
    check_axe(page)
    page.get_by_label("Country").select_option("SE")
    submit(page.get_by_role("button", name="Show the map"))
    expect(page).to_have_url(re.compile(r"country=SE"))
    check_axe(page)
    cell = page.locator(".map-count").first
    submit(cell)
    expect(page).to_have_url(re.compile(r"/library/\?intervention=.*country=SE"))
    expect(page.locator(".library-hit").first).to_be_visible()


def test_contribute_review_and_publish(page, check_axe, world, live_server):  # noqa: F811
    log_in(page, world.a.users["member"], live_server)
    page.goto("/library/contribute/")
    expect(page.get_by_role("heading", level=1, name="Contribute a resource")).to_be_visible()
    check_axe(page)
    page.get_by_label("Type of resource").select_option("guide")
    page.get_by_label("Summary").fill("How our city runs its multi-agency prevention panel.")
    page.get_by_label("Languages").fill("en")
    submit(page.get_by_role("button", name="Save as a draft"))
    expect(page.locator("#id_title_error")).to_be_visible()  # next to the field, input kept
    expect(page.get_by_label("Summary")).to_have_value(
        "How our city runs its multi-agency prevention panel."
    )
    check_axe(page)
    page.get_by_label("Title").fill("Running a multi-agency prevention panel")
    submit(page.get_by_role("button", name="Save as a draft"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Running a multi-agency prevention panel"
    )
    check_axe(page)
    submit(page.get_by_role("button", name="Submit for review"))
    expect(page.get_by_role("heading", level=1, name="Your organisation's records")).to_be_visible()
    check_axe(page)

    log_in(page, world.a.users["editor"], live_server)
    page.goto("/library/review/")
    check_axe(page)
    submit(page.get_by_role("link", name="Running a multi-agency prevention panel"))
    check_axe(page)
    page.screenshot(path=os.path.join(SHOTS, "library-review.png"), full_page=True)
    page.get_by_label("Ask for changes").check()
    submit(page.get_by_role("button", name="Record the decision"))
    expect(page.locator("#id_comment_error")).to_be_visible()
    check_axe(page)
    page.get_by_label("Approve and publish").check()
    submit(page.get_by_role("button", name="Record the decision"))
    expect(page.get_by_text("No record is waiting for review.")).to_be_visible()

    page.goto("/alpha/library/")
    expect(page.get_by_role("link", name="Running a multi-agency prevention panel")).to_be_visible()
    check_axe(page)
