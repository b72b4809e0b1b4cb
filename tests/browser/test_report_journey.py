"""The public report journey in a real browser: once by keyboard alone, once with JavaScript
switched off; axe on every step page, the receipt and the follow-up pages; then the report is
followed up with its reference and code."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import TIMEOUT_MS, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

ACCOUNT = "A man shouted abuse at my sister on the tram and pulled at her headscarf."


@pytest.fixture
def world(transactional_db):
    """The two-place world, committed, so that the live server's thread sees it."""
    from locus.core.testing.world import build_world

    return build_world()


# --- keyboard helpers ----------------------------------------------------------------------


def is_focused(locator):
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, locator, limit=150):
    """Press Tab until `locator` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if is_focused(locator):
            return
    pytest.fail(f"Tab never reached {locator}", pytrace=False)


def choose_radio(page, group, label):
    """Tab into a radio group, then move with the arrow keys to the option (which checks it)."""
    radios = group.get_by_role("radio")
    checked = group.locator("input[type=radio]:checked")
    tab_to(page, checked if checked.count() else radios.first)  # Tab enters at the checked one
    target = group.get_by_role("radio", name=label, exact=True)
    for _ in range(radios.count()):  # the arrow keys wrap around
        if is_focused(target):
            break
        page.keyboard.press("ArrowDown")
    expect(target).to_be_checked()


def tick(page, checkbox):
    tab_to(page, checkbox)
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()


def type_into(page, field, text):
    tab_to(page, field)
    page.keyboard.type(text)


def press_button(page, name):
    """Tab to a button and press Enter; wait for the page it leads to."""
    button = page.get_by_role("button", name=name, exact=True)
    tab_to(page, button)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    response = navigation.value
    assert response is not None and response.status < 500, response and response.status
    return response


def expect_step(page, number, title):
    expect(page.get_by_text(f"Step {number} of 6", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    current = page.locator(".progress-steps [aria-current=step]")
    expect(current).to_have_text(title)


def group(page, legend):
    return page.get_by_role("group", name=legend)


# --- the journeys --------------------------------------------------------------------------


def test_report_by_keyboard_alone_then_follow_it_up(page, world, check_axe, tmp_path, shot):
    photo_notes = tmp_path / "what-was-said.txt"
    photo_notes.write_text("Words shouted on the 5 tram, written down straight after.\n")

    page.goto("/alpha/")
    check_axe(page)
    press_link = page.get_by_role("link", name="Report an incident")
    tab_to(page, press_link)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/alpha/report/$"))

    # 1 What happened
    expect_step(page, 1, "What happened")
    check_axe(page)
    choose_radio(page, group(page, "What happened?"), "Physical attack")
    tick(page, page.get_by_label("It is still happening"))
    press_button(page, "Continue")

    # 2 Where
    expect_step(page, 2, "Where")
    check_axe(page)
    choose_radio(page, group(page, "What kind of place was it?"), "Public transport")
    tab_to(page, page.get_by_label("Area"))
    page.keyboard.type("Alphaville N")
    expect(page.get_by_label("Area").locator("option:checked")).to_have_text("Alphaville North")
    type_into(page, page.get_by_label("Where was it, in your words?"), "Tram 5, Market stop")
    press_button(page, "Continue")

    # 3 Who was targeted and what happened: a file chosen with the keyboard too
    expect_step(page, 3, "Who was targeted and what happened")
    check_axe(page)
    tick(page, page.get_by_role("checkbox", name="Anti-Muslim hatred"))
    tick(page, page.get_by_role("checkbox", name="Gender (misogyny)"))
    type_into(page, page.get_by_label("What happened, in your own words"), ACCOUNT)
    files = page.get_by_label("Photos, screenshots or documents")
    tab_to(page, files)  # the file input is reachable by keyboard…
    # …and choosing a file is the operating system's dialog: set it directly (the dialog opened
    # by Space is not reliably reported by headless Chromium under load).
    files.set_input_files(photo_notes)
    press_button(page, "Continue")

    # 4 About you
    expect_step(page, 4, "About you")
    check_axe(page)
    choose_radio(page, group(page, "Who are you in what happened?"), "I saw it happen")
    tick(page, page.get_by_role("checkbox", name="Someone to talk to"))
    press_button(page, "Continue")

    # 5 Sharing and contact: record only, no contact details
    expect_step(page, 5, "Sharing and contact")
    check_axe(page)
    expect(page.get_by_text("If you tick none, your report is recorded only")).to_be_visible()
    press_button(page, "Continue")

    # 6 Check and send
    expect_step(page, 6, "Check and send")
    check_axe(page)
    expect(page.get_by_text("Physical attack")).to_be_visible()
    expect(page.get_by_text("Alphaville North")).to_be_visible()
    expect(page.get_by_text("what-was-said.txt")).to_be_visible()
    expect(page.get_by_text("Recorded only: counted in the statistics")).to_be_visible()
    shot(page, "report_check")

    # Change one answer and come straight back to the check page.
    press_button(page, "Change About you")
    expect_step(page, 4, "About you")
    role = group(page, "Who are you in what happened?")
    choose_radio(page, role, "I am reporting for someone else")
    press_button(page, "Continue")
    expect_step(page, 6, "Check and send")
    expect(page.get_by_text("I am reporting for someone else")).to_be_visible()

    response = press_button(page, "Send report")
    assert response.status == 200
    expect(page).to_have_url(re.compile(r"/alpha/report/receipt/[0-9A-Z]{4}-[0-9A-Z]{4}/$"))
    check_axe(page)
    shot(page, "report_receipt")
    reference = page.locator("#report-reference").inner_text()
    code = page.locator("#followup-code").inner_text()
    assert re.fullmatch(r"([0-9A-Z]{4}-){4}[0-9A-Z]{4}", code)
    expect(page.get_by_text("Your report is recorded and counted")).to_be_visible()

    # A reload shows the reference only.
    page.reload()
    expect(page.locator("#followup-code")).to_have_count(0)
    expect(page.get_by_text("The follow-up code was shown once")).to_be_visible()
    check_axe(page)

    # Follow it up with the reference and the code.
    link = page.get_by_role("link", name="Follow up a report")
    tab_to(page, link)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_axe(page)
    type_into(page, page.get_by_label("Reference"), reference.lower())
    type_into(page, page.get_by_label("Follow-up code"), code)
    press_button(page, "Open my report")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Report {reference}")
    expect(page.get_by_text("what-was-said.txt")).to_be_visible()
    expect(page.get_by_text(ACCOUNT)).to_be_hidden()  # behind "Show what you wrote"
    check_axe(page)

    tick(page, page.get_by_label("Share my report with the police without my name"))
    press_button(page, "Save my choices")
    expect(page.get_by_text("Your choices about sharing have been saved.")).to_be_visible()
    expect(page.get_by_label("Share my report with the police without my name")).to_be_checked()
    check_axe(page)
    shot(page, "report_followup")


def test_report_with_javascript_switched_off(browser, live_server, world, axe, tmp_path):
    """The whole journey with JavaScript off, a form error on the way (the typed account and
    the staged file survive it), then the follow-up."""
    notes = tmp_path / "screenshot-notes.txt"
    notes.write_text("The post said that people like us should leave the city.\n")
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    # axe is a script, and it cannot run where scripts are off: each page as served without
    # JavaScript is copied into a page of a second context (same origin, so the styles load)
    # and checked there.
    checker_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    checker = checker_context.new_page()
    checker.goto("/alpha/")
    violations = []

    def check(name):
        checker.set_content(page.content(), wait_until="load")
        found = axe.run(checker).response["violations"]
        violations.extend(f"{name}: {v['id']} {v['help']}" for v in found)

    try:
        page.goto("/alpha/report/")
        check("step 1")
        group(page, "What happened?").get_by_label("Hateful content online").check()
        submit(page.get_by_role("button", name="Continue", exact=True))

        expect(page.get_by_text("Step 2 of 6", exact=True)).to_be_visible()
        expect(page.get_by_label("Area")).to_have_count(0)  # online: no area, but the address
        page.get_by_label("Address of the content (URL)").fill("https://x.com/someone/status/1")
        check("step 2 (online)")
        submit(page.get_by_role("button", name="Continue", exact=True))

        # Step 3 without a bias answer: refused, but the account and the file are kept.
        page.get_by_label("What happened, in your own words").fill(ACCOUNT)
        page.get_by_label("Photos, screenshots or documents").set_input_files(notes)
        response = submit(page.get_by_role("button", name="Continue", exact=True))
        assert response.status == 422
        expect(
            page.get_by_text("Choose at least one answer, or “Not sure”.", exact=True)
        ).to_be_visible()
        expect(page.get_by_label("What happened, in your own words")).to_have_value(ACCOUNT)
        expect(page.get_by_role("button", name="Remove screenshot-notes.txt")).to_be_visible()
        check("step 3 (error)")
        page.get_by_role("checkbox", name="Not sure").check()
        submit(page.get_by_role("button", name="Continue", exact=True))

        expect(page.get_by_text("Step 4 of 6", exact=True)).to_be_visible()
        check("step 4")
        group(page, "Who are you in what happened?").get_by_label("I found it online").check()
        submit(page.get_by_role("button", name="Continue", exact=True))

        expect(page.get_by_text("Step 5 of 6", exact=True)).to_be_visible()
        check("step 5")
        page.get_by_label("Let a support organisation contact me").check()
        page.get_by_label("E-mail address").fill("reporter@example.test")
        submit(page.get_by_role("button", name="Continue", exact=True))

        expect(page.get_by_text("Step 6 of 6", exact=True)).to_be_visible()
        expect(page.get_by_text("X (Twitter)")).to_be_visible()  # worked out from the URL
        check("step 6")
        submit(page.get_by_role("button", name="Send report"))

        expect(page).to_have_url(re.compile(r"/alpha/report/receipt/"))
        check("receipt")
        reference = page.locator("#report-reference").inner_text()
        code = page.locator("#followup-code").inner_text()

        page.get_by_role("link", name="Follow up a report").click()
        page.get_by_label("Reference").fill(reference)
        page.get_by_label("Follow-up code").fill(code.replace("-", " "))
        submit(page.get_by_role("button", name="Open my report"))
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Report {reference}")
        expect(page.get_by_text("screenshot-notes.txt")).to_be_visible()
        page.get_by_text("Show what you wrote").click()  # <details> works without JavaScript
        expect(page.get_by_text(ACCOUNT)).to_be_visible()
        check("follow-up")
        # The browser that sent the report holds its device cookie, out of scripts' reach.
        device = [c for c in context.cookies() if c["name"] == "locus_followup_device"]
        assert device and device[0]["httpOnly"] and device[0]["sameSite"] == "Lax"
        assert device[0]["path"] == "/alpha/" and reference not in device[0]["value"]
        submit(page.get_by_role("button", name="Close", exact=True))
        expect(page.get_by_role("heading", level=1)).to_have_text("Follow up a report")
        assert any(c["name"] == "locus_followup_device" for c in context.cookies())
        # On a shared device: close and forget it.
        page.get_by_label("Reference").fill(reference)
        page.get_by_label("Follow-up code").fill(code)
        submit(page.get_by_role("button", name="Open my report"))
        submit(page.get_by_role("button", name="Close and forget this device"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Follow up a report")
        assert not any(c["name"] == "locus_followup_device" for c in context.cookies())
    finally:
        context.close()
        checker_context.close()
    assert not violations, "axe violations:\n" + "\n".join(violations)


def test_the_browsers_back_button_goes_back_one_step_with_everything_kept(page, world):
    """On a phone, Back is the browser's button. Each step is a POST never stored, so the
    history alone could only show "Confirm form resubmission": reporting/journey.js makes the
    browser's Back press the form's "Back" instead."""
    page.goto("/alpha/")
    page.goto("/alpha/report/")
    group(page, "What happened?").get_by_role("radio", name="Threat", exact=True).click()
    submit(page.get_by_role("button", name="Continue", exact=True))
    expect_step(page, 2, "Where")
    group(page, "What kind of place was it?").get_by_role(
        "radio", name="Public transport", exact=True
    ).click()
    page.get_by_label("Where was it, in your words?").click()
    page.keyboard.type("Tram 5, Market stop")
    submit(page.get_by_role("button", name="Continue", exact=True))
    expect_step(page, 3, "Who was targeted and what happened")
    page.get_by_label("What happened, in your own words").click()
    page.keyboard.type(ACCOUNT)

    with page.expect_navigation():
        page.go_back()

    expect_step(page, 2, "Where")
    expect(page).to_have_url(re.compile(r"/alpha/report/$"))
    expect(page.get_by_label("Where was it, in your words?")).to_have_value("Tram 5, Market stop")
    expect(page.get_by_role("radio", name="Public transport", exact=True)).to_be_checked()
    submit(page.get_by_role("button", name="Continue", exact=True))
    expect_step(page, 3, "Who was targeted and what happened")
    expect(page.get_by_label("What happened, in your own words")).to_have_value(ACCOUNT)


def test_enter_in_a_text_field_continues_rather_than_changing_language(page, world):
    """The header's "Change language" joined the journey's form and, being first in the page,
    became its default button: Enter in a text field showed the same step again instead of
    going on. A hidden Continue before it keeps Enter meaning Continue."""
    page.goto("/alpha/report/")
    page.locator("input[name$=incident_type]").nth(1).check()
    submit(page.locator(".journey-buttons button[value=next]"))
    expect(page.locator(".progress-text")).to_contain_text("Step 2 of 6")
    page.locator("input[name$=setting]").first.check()
    with page.expect_navigation():
        page.locator("#journey-form input[type=text], #journey-form input[type=url]").first.press(
            "Enter"
        )
    expect(page.locator(".progress-text")).to_contain_text("Step 3 of 6")


NEUTRAL_SITE = "https://www.bbc.co.uk/weather"


def test_quick_exit_on_every_step_and_back_after_it_shows_nothing_typed(
    browser, live_server, world
):
    """Quick exit is on every step and on the receipt. After it, Back must not bring the
    report back: each step is a POST, and the history entry of a POST keeps what was sent, so
    Back (or "Confirm form resubmission") sent the answers again and showed them — the account
    of what happened among them — to whoever picked up the phone next. locus.js turns each
    such entry into a plain visit of the address: Back opens an empty first step."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 360, "height": 740}
    )
    context.set_default_timeout(TIMEOUT_MS)
    # The neutral site is answered here, never fetched; anything else off the server fails.
    foreign = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(live_server.url):
            request_route.continue_()
        elif url.startswith(NEUTRAL_SITE):
            request_route.fulfill(status=200, content_type="text/html", body="<title>W</title>")
        else:
            foreign.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    sent = []
    page.on("request", lambda r: r.method == "POST" and sent.append(r.url))
    quick_exit = page.get_by_role("link", name="Quick exit")
    try:
        page.goto("/alpha/report/")
        expect(quick_exit).to_have_attribute("href", NEUTRAL_SITE)
        group(page, "What happened?").get_by_role("radio", name="Threat", exact=True).click()
        submit(page.get_by_role("button", name="Continue", exact=True))
        expect(quick_exit).to_have_attribute("href", NEUTRAL_SITE)
        group(page, "What kind of place was it?").get_by_role(
            "radio", name="Public transport", exact=True
        ).click()
        submit(page.get_by_role("button", name="Continue", exact=True))
        expect(quick_exit).to_have_attribute("href", NEUTRAL_SITE)
        group(page, "Who was targeted, or why do you think it happened?").get_by_role(
            "checkbox", name="Not sure", exact=True
        ).click()
        page.get_by_label("What happened, in your own words").fill(ACCOUNT)
        submit(page.get_by_role("button", name="Continue", exact=True))
        expect_step(page, 4, "About you")
        expect(quick_exit).to_have_attribute("href", NEUTRAL_SITE)

        page.get_by_role("radio", name="It happened to me", exact=True).click()
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")  # twice: the quick exit's key
        page.wait_for_url(NEUTRAL_SITE)
        sent.clear()
        page.go_back()

        expect_step(page, 1, "What happened")
        assert sent == [], f"Back sent the form again: {sent}"
        assert ACCOUNT not in page.content()
        expect(page.get_by_role("radio", name="Threat", exact=True)).not_to_be_checked()

        # The check page and the receipt have it too, and a click works as Escape does.
        page.goto("/alpha/report/")
        group(page, "What happened?").get_by_role("radio", name="Threat", exact=True).click()
        submit(page.get_by_role("button", name="Continue", exact=True))
        page.get_by_role("radio", name="Public transport", exact=True).click()
        submit(page.get_by_role("button", name="Continue", exact=True))
        page.get_by_role("checkbox", name="Not sure", exact=True).click()
        page.get_by_label("What happened, in your own words").fill(ACCOUNT)
        submit(page.get_by_role("button", name="Continue", exact=True))
        page.get_by_role("radio", name="It happened to me", exact=True).click()
        submit(page.get_by_role("button", name="Continue", exact=True))
        submit(page.get_by_role("button", name="Continue", exact=True))
        expect_step(page, 6, "Check and send")
        expect(quick_exit).to_have_attribute("href", NEUTRAL_SITE)
        submit(page.get_by_role("button", name="Send report", exact=True))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Thank you. Your report has been sent."
        )
        # Printed, the receipt keeps what to write down and drops the page's controls.
        page.emulate_media(media="print")
        expect(page.locator("#report-reference")).to_be_visible()
        expect(page.locator("#followup-code")).to_be_visible()
        expect(page.locator("#followup-address")).to_have_text(
            f"{live_server.url}/alpha/follow-up/"
        )
        for control in (quick_exit, page.locator(".header-nav"), page.locator(".site-footer")):
            expect(control).to_be_hidden()
        expect(page.get_by_role("link", name="Follow up a report")).to_be_hidden()
        page.emulate_media(media="screen")
        quick_exit.click()
        page.wait_for_url(NEUTRAL_SITE)
    finally:
        context.close()
    assert not foreign, f"pages tried to load from other hosts: {foreign}"
