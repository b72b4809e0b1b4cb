"""Searching the library as a person would, with and without JavaScript, every page checked
with axe. Uses the browser fixtures of tests/browser (Debian's Chromium through Playwright)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, axe, browser, check_axe, page, submit  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def seeded(transactional_db):
    from locus.library.services import library_load_demo

    return library_load_demo()


def test_search_filter_and_open_a_record(page, check_axe, seeded):  # noqa: F811
    page.goto("/library/")
    expect(page.get_by_role("heading", level=1, name="Library")).to_be_visible()
    check_axe(page)
    page.get_by_label("Search the library").fill("evaluation")
    submit(page.get_by_role("button", name="Search", exact=True))
    results = page.get_by_role("heading", level=2, name=re.compile(r"^\d+ resources$"))
    expect(results).to_be_visible()
    expect(page.locator("mark").first).to_be_visible()
    check_axe(page)

    page.get_by_role("group", name="Type", exact=True).get_by_label(
        re.compile("^Evaluation")
    ).check()
    submit(page.get_by_role("button", name="Apply filters"))
    expect(
        page.get_by_role("link", name=re.compile("Remove filter Type: Evaluation"))
    ).to_be_visible()
    first = page.locator(".library-hit h3 a").first
    title = first.inner_text()
    submit(first)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("table")).to_be_visible()
    check_axe(page)

    page.goto("/library/?q=x&topic=nope&year_from=2020&year_to=2010")
    expect(page.locator("#id_year_to_error")).to_contain_text("must not be before")
    check_axe(page)  # errors next to their fields


def test_search_works_without_javascript(browser, live_server, seeded):  # noqa: F811
    # axe is a script and cannot run here: the same pages are checked in the test above.
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        tab = context.new_page()
        tab.goto("/library/?q=handlingsplan")
        expect(tab.locator(".library-hit")).to_have_count(2)
        tab.get_by_role("group", name="Language", exact=True).get_by_label(
            re.compile("^Swedish")
        ).check()
        submit(tab.get_by_role("button", name="Apply filters"))
        assert "language=sv" in tab.url
        expect(tab.locator(".library-hit")).to_have_count(2)
        tab.goto("/library/?q=x&year_from=2020&year_to=2010")
        expect(tab.locator("#id_year_to_error")).to_contain_text("must not be before")
    finally:
        context.close()
