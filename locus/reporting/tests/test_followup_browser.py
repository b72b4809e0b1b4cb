"""Follow-up in a real browser: open a routed report with its reference and code, write to an
organisation (an empty message first), add a file, read the copy of the data, erase it. axe on
every page shown. The browser fixtures are the suite's own (tests/browser/conftest.py)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, axe, browser, check_axe, page, submit  # noqa: F401

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


def test_follow_up_exchange_add_copy_and_erase(page, check_axe, followed, tmp_path):  # noqa: F811
    from locus.cases.choices import MessageDirection
    from locus.cases.models import CaseMessage
    from locus.core.tenancy import place_scope

    support_case = followed.case_of(followed.support)
    with place_scope(followed.place):
        CaseMessage.objects.create(
            place=followed.place,
            case=support_case,
            direction=MessageDirection.TO_REPORTER,
            body="Thank you for telling us. Is the post still online?",
        )

    page.goto("/alpha/follow-up/")
    page.get_by_label("Reference").fill(followed.report.reference)
    page.get_by_label("Follow-up code").fill(followed.code)
    submit(page.get_by_role("button", name="Open my report"))
    thread = page.locator(f"#thread-{support_case.pk}")
    expect(thread.get_by_role("heading", name="Hope Support")).to_be_visible()
    expect(thread.get_by_text("Is the post still online?")).to_be_visible()
    expect(thread.get_by_text("New message")).to_be_visible()
    check_axe(page)
    # The list of files ends with the row's own line, not a second one of its own.
    last_file = page.locator(".check-list dd .plain-list li").last
    assert last_file.evaluate("li => getComputedStyle(li).borderBottomWidth") == "0px"

    # An empty message: refused next to its field.
    response = submit(thread.get_by_role("button", name="Send message to Hope Support"))
    assert response.status == 422
    # Next to the field, and in the error summary at the top, a link to the field.
    expect(thread.get_by_text("Write your message first.", exact=True)).to_be_visible()
    expect(page.locator("#error-summary a")).to_have_attribute(
        "href", f"#id_thread-{support_case.pk}-body"
    )
    # The button's formaction brought the page back at its thread, in view with the error
    # (HTML does not move the focus to the summary on a page opened at a fragment).
    expect(thread.locator(".errorlist")).to_be_in_viewport()
    check_axe(page)

    field = page.get_by_label("Your message to Hope Support")
    field.fill("Yes, it is still there this morning.")
    submit(page.get_by_role("button", name="Send message to Hope Support"))
    expect(page.get_by_text("Your message has been sent to Hope Support.")).to_be_visible()
    expect(page.get_by_text("Yes, it is still there this morning.")).to_be_visible()
    expect(page.get_by_text("New message")).to_have_count(0)
    check_axe(page)

    notes = tmp_path / "second-post.txt"
    notes.write_text("The second post said the same thing.\n")
    page.get_by_label("What would you like to add?").fill("A second account shared it.")
    page.get_by_label("Add photos, screenshots or documents").set_input_files(notes)
    submit(page.get_by_role("button", name="Add to my report"))
    expect(page.get_by_text("What you added has been saved with your report.")).to_be_visible()
    expect(page.get_by_text("second-post.txt")).to_be_visible()
    check_axe(page)

    submit(page.get_by_role("link", name="See a copy of your data"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("A copy of your data")
    expect(page.get_by_role("table").first).to_be_visible()
    check_axe(page)
    # On a phone the wide tables scroll in their box, but their captions stay on the screen.
    page.set_viewport_size({"width": 360, "height": 740})
    beyond = page.evaluate(
        """() => [...document.querySelectorAll('caption')].map(
            caption => caption.getBoundingClientRect().right - window.innerWidth)"""
    )
    assert beyond and max(beyond) <= 0, beyond
    # A table wider than the phone scrolls by keyboard too (axe: scrollable-region-focusable).
    check_axe(page)

    page.goto("/alpha/follow-up/erase/")
    check_axe(page)
    response = submit(page.get_by_role("button", name="Erase my personal data"))
    assert response.status == 422
    check_axe(page)
    page.get_by_label("I understand that my personal data will be erased").check()
    submit(page.get_by_role("button", name="Erase my personal data"))
    expect(page.get_by_role("heading", name="Your personal data has been erased")).to_be_visible()
    expect(page.get_by_role("button", name="Send message")).to_have_count(0)
    check_axe(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_changing_language_keeps_what_was_typed(
    browser,  # noqa: F811
    live_server,
    followed,
    tmp_path,
    javascript,
):
    """The page's one form carries, with the language switcher, the unsent message and
    addition, the consent boxes as ticked (not saved) and a file chosen, with or without
    JavaScript: the page comes back in the chosen language with all of them, the report still
    open. On a phone, as a reporter would."""
    from django.core.cache import cache

    cache.clear()
    context = browser.new_context(
        java_script_enabled=javascript,
        base_url=live_server.url,
        locale="en-GB",
        viewport={"width": 360, "height": 740},
    )
    page = context.new_page()  # noqa: F811 - a phone-sized context of its own
    support_case = followed.case_of(followed.support)
    page.goto("/alpha/follow-up/")
    page.get_by_label("Reference").fill(followed.report.reference)
    page.get_by_label("Follow-up code").fill(followed.code)
    submit(page.get_by_role("button", name="Open my report"))
    page.get_by_label("Your message to Hope Support").fill("Two more posts.\nBoth from today.")
    page.get_by_label("What would you like to add?").fill("It went on this morning.")
    notes = tmp_path / "third-post.txt"
    notes.write_text("The third post.\n")
    page.get_by_label("Add photos, screenshots or documents").set_input_files(notes)
    police = page.locator("#id_consent-police_anonymised")
    support = page.locator("#id_consent-support_contact")
    assert not police.is_checked() and support.is_checked()
    police.check()
    support.uncheck()

    page.locator("#language-select").select_option("fr")
    response = submit(page.get_by_role("button", name="Change language"))
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(f"#id_thread-{support_case.pk}-body")).to_have_value(
        "Two more posts.\nBoth from today."
    )
    expect(page.locator("#id_add-text")).to_have_value("It went on this morning.")
    expect(page.locator(".staged-files")).to_contain_text("third-post.txt")
    expect(police).to_be_checked()
    expect(support).not_to_be_checked()
    # Still only chosen: "Who may receive it" names what is saved.
    expect(page.locator(".check-list")).not_to_contain_text("police")
    context.close()


NEUTRAL_SITE = "https://www.bbc.co.uk/weather"


@pytest.mark.parametrize("where", ["/alpha/follow-up/", "/alpha/follow-up/copy/"])
def test_quick_exit_closes_the_report_so_back_cannot_open_it(
    browser,  # noqa: F811
    live_server,
    followed,
    where,
):
    """A report opened on the follow-up page stays open for the browser session: after a quick
    exit, Back (or the address typed again) showed it, the account and the messages included,
    to whoever picked up the device next. Quick exit now sends the page's "Close" as a beacon
    as it leaves."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 360, "height": 740}
    )
    context.set_default_timeout(TIMEOUT_MS)
    closed = []

    def route(request_route):
        request = request_route.request
        if request.url.startswith(NEUTRAL_SITE):
            request_route.fulfill(status=200, content_type="text/html", body="<title>W</title>")
        elif (
            request.resource_type == "ping" and request.url == f"{live_server.url}/alpha/follow-up/"
        ):
            response = request_route.fetch(max_redirects=0)  # the beacon, answered by the server
            closed.append((response.status, request.post_data))
            request_route.fulfill(response=response)
        elif request.url.startswith(live_server.url):
            request_route.continue_()
        else:
            request_route.abort()

    context.route("**/*", route)
    tab = context.new_page()
    try:
        tab.goto("/alpha/follow-up/")
        tab.get_by_label("Reference").fill(followed.report.reference)
        tab.get_by_label("Follow-up code").fill(followed.code)
        submit(tab.get_by_role("button", name="Open my report"))
        expect(tab.get_by_role("heading", level=1)).to_have_text(
            f"Report {followed.report.reference}"
        )
        tab.goto(where)
        tab.get_by_role("link", name="Quick exit").click()
        tab.wait_for_url(NEUTRAL_SITE)
        for _ in range(100):  # the beacon outlives the page: wait until the server answered it
            if closed:
                break
            tab.wait_for_timeout(50)
        assert closed, "quick exit left the report open"
        ((status, sent),) = closed
        assert status == 303 and 'name="action"\r\n\r\nclose' in sent

        tab.go_back()
        expect(tab.get_by_role("heading", level=1)).to_have_text("Follow up a report")
        tab.goto("/alpha/follow-up/")
        expect(tab.get_by_role("heading", level=1)).to_have_text("Follow up a report")
        expect(tab.get_by_label("Follow-up code")).to_be_visible()
    finally:
        context.close()
