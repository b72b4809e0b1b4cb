"""The routing-rule editor in a real browser, without JavaScript: write a rule with form
controls, try it on a sample report before saving, save it, reorder, try the saved rules, and
delete with confirmation — every page checked with axe."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe, browser, check_axe, page, submit  # noqa: F401
from tests.browser.test_every_page import log_in

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


@pytest.fixture(params=["with JavaScript", "without JavaScript"])
def browse(request, browser, live_server, page, check_axe):  # noqa: F811
    """(page, check): the `page` fixture's page (loopback only, console errors fail the test)
    and axe; or a page with JavaScript switched off, where axe cannot run (it is JavaScript),
    so the same journey is walked unchecked."""
    if request.param == "with JavaScript":
        yield page, check_axe
        return
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    yield context.new_page(), lambda page: None
    context.close()


def test_a_coordinator_writes_tries_and_saves_a_rule(
    browse, world, partners, rule_in, live_server, request
):
    tab, check = browse
    scripted = request.node.callspec.params["browse"] == "with JavaScript"
    rule_in(world.a, name="Everything else", is_fallback=True, destinations=[partners.team])
    log_in(tab, world.a.users["coordinator"], live_server)
    tab.goto("/alpha/staff/")
    submit(tab.get_by_role("navigation", name="Staff").get_by_role("link", name="Routing rules"))
    expect(tab.get_by_role("heading", name="Routing rules", level=1)).to_be_visible()
    check(tab)

    submit(tab.get_by_role("link", name="New rule"))
    check(tab)
    tab.get_by_label("Name").fill("Antiziganism to the police")
    rule = tab.get_by_role("region", name="When")
    # Each condition is folded into a line naming its values; opening one shows its boxes.
    bias_line = rule.locator("summary", has_text=re.compile("^Bias motivation:"))
    expect(bias_line).to_have_text("Bias motivation: Any value")
    expect(rule.get_by_role("group", name="Bias motivation")).to_be_hidden()
    bias_line.click()
    rule.get_by_role("group", name="Bias motivation").get_by_label(
        "Racism or xenophobia", exact=True
    ).check()
    if scripted:  # the line follows the boxes at once; without JavaScript, at the next load
        expect(bias_line).to_have_text("Bias motivation: Racism or xenophobia")
    tab.get_by_role("group", name="Send to").get_by_label("Alpha Police").check()
    sample = tab.get_by_role("region", name="Try it on a sample report")
    sample.get_by_label("What happened").select_option("threat")
    sample.get_by_role("group", name="Bias motivation").get_by_label(
        "Racism against Roma and Sinti"
    ).check()
    sample.get_by_label("Shared with the police, anonymised").check()
    response = submit(tab.get_by_role("button", name="Try the rule as edited"))
    assert response.status == 200
    expect(tab.get_by_text("Alpha Police would now receive it")).to_be_visible()
    expect(tab.get_by_role("table", name="With the rule as edited")).to_contain_text(
        "We sent your report to Alpha Police without your name or contact details"
    )
    check(tab)
    expect(tab.get_by_label("Name")).to_have_value("Antiziganism to the police")
    expect(bias_line).to_have_text("Bias motivation: Racism or xenophobia")
    expect(rule.get_by_role("group", name="Bias motivation")).to_be_visible()  # open: a value

    submit(tab.get_by_role("button", name="Save rule"))
    expect(tab.get_by_text("Rule “Antiziganism to the police” saved.")).to_be_visible()
    check(tab)
    # Put the new rule first, then try the saved rules.
    submit(tab.get_by_role("button", name="Move up Antiziganism to the police"))
    headings = tab.locator("ol > li h3")
    expect(headings.first).to_contain_text("Antiziganism to the police")

    submit(tab.get_by_role("link", name="Try the rules on a sample report"))
    tab.get_by_label("What happened").select_option("assault")
    tab.get_by_label("Sent to the police with contact details").check()
    submit(tab.get_by_role("button", name="Try it"))
    expect(tab.get_by_role("table", name="With the rules as saved")).to_contain_text(
        "Alphaville Council"
    )
    check(tab)

    tab.goto("/alpha/staff/routing/")
    submit(tab.get_by_role("link", name="Delete Antiziganism to the police"))
    check(tab)
    submit(tab.get_by_role("button", name="Delete the rule"))
    expect(tab.get_by_text("Rule “Antiziganism to the police” deleted.")).to_be_visible()


def test_errors_are_shown_next_to_the_fields(browse, world, partners, live_server):
    tab, check = browse
    log_in(tab, world.a.users["coordinator"], live_server)
    tab.goto("/alpha/staff/routing/new/")
    tab.get_by_label("Name").fill("A fallback with a condition")
    tab.get_by_label("Fallback rule").check()
    tab.locator("summary", has_text=re.compile("^Online:")).click()
    tab.get_by_role("group", name="Online").get_by_label("Only online reports").check()
    response = submit(tab.get_by_role("button", name="Save rule"))
    assert response.status == 422
    expect(tab.get_by_label("Fallback rule")).to_have_accessible_description(
        "Used only when no other rule matched a report. A fallback rule has no conditions: it "
        "applies when no rule matched."
    )
    check(tab)
