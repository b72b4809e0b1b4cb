"""Browser fixtures: Debian's Chromium driven by Playwright, every page checked with axe.

Playwright's sync API keeps an event loop running in the test thread while it is started, so
Django's async-safety check would refuse the ORM calls the tests make to build their data. The
`browser` fixture allows them (DJANGO_ALLOW_ASYNC_UNSAFE) only while Playwright runs, and is
module-scoped so that both end before any other module's tests run on the same worker: set for
the whole session, the variable would leak into other tests (and into the `manage.py check
--deploy` subprocess of tests/test_security.py, which rightly warns about it).
"""

import os
import time
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - what locus.core.testing.world.enable_totp stores
SHOTS = "/tmp/shots"  # noqa: S108 - screenshots for people to look at, nothing secret


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) talking to the live server only.

    Any request to another host is aborted and recorded; console errors (CSP violations among
    them) and uncaught page errors are recorded too. The test fails at teardown if there were any.
    """
    from django.core.cache import cache

    # TOTP codes are remembered as used, and login attempts are rate-limited, in the cache.
    cache.clear()
    origin = urlsplit(live_server.url)
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    foreign, console_errors = [], []

    def only_loopback(route):
        url = urlsplit(route.request.url)
        if url.scheme in {"data", "blob"} or url.netloc == origin.netloc:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()

    def on_console(msg):
        # HTTP errors are judged from the responses below: a 422 page is a valid answer.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            console_errors.append(msg.text)

    def on_response(response):
        if response.status >= 500 or (
            response.status >= 400 and response.request.resource_type != "document"
        ):
            console_errors.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
    page.on("response", on_response)
    yield page
    context.close()
    assert not foreign, f"pages tried to load from other hosts: {foreign}"
    assert not console_errors, "console errors (CSP?) or failed requests:\n" + "\n".join(
        console_errors
    )


@pytest.fixture
def check_axe(axe):
    """`check_axe(page)`: no axe violation on the page as it is now (all of axe's default rules)."""

    def check(page):
        page.wait_for_load_state("load")
        results = axe.run(page)
        violations = results.response["violations"]
        if violations:
            lines = [f"{len(violations)} axe violation(s) on {page.url}:"]
            for violation in violations:
                lines.append(
                    f"- {violation['id']} ({violation['impact']}): {violation['help']}"
                    f"\n  {violation['helpUrl']}"
                )
                for node in violation["nodes"]:
                    lines.append(f"    at {', '.join(map(str, node['target']))}")
                    lines.append(f"       {node['html'][:300]}")
                    lines.append(f"       {node['failureSummary']}".replace("\n", "\n       "))
            pytest.fail("\n".join(lines), pytrace=False)

    return check


def totp_now(secret):
    """The current TOTP code for a secret, computed with allauth's own functions."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


def submit(button):
    """Click a form's submit button and wait for the page it leads to.

    Fails at once, with the page's text, when the answer is a 403 (such as a CSRF refusal) or
    a 5xx, instead of letting the next expectation time out. A 422 (form errors) is an answer.
    """
    page = button.page
    with page.expect_navigation() as navigation:
        button.click()
    response = navigation.value
    if response is not None and (response.status == 403 or response.status >= 500):
        text = " ".join(page.locator("body").inner_text().split())[:400]
        pytest.fail(f"{response.status} from {response.url}: {text}", pytrace=False)
    return response


@pytest.fixture
def sign_in(check_axe, settings):
    """`sign_in(page, user)`: sign in through the login and TOTP pages, checking both with axe."""
    from locus.core.testing.factories import PASSWORD

    # Accept the neighbouring 30-second step too, so that a step boundary falling between
    # computing the code and the server checking it cannot make the test flaky.
    settings.MFA_TOTP_TOLERANCE = 1

    def do_sign_in(page, user, *, secret=TOTP_SECRET):
        page.goto("/accounts/login/")
        check_axe(page)
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        submit(page.get_by_role("button", name="Sign in"))
        assert page.url.endswith("/accounts/2fa/authenticate/"), page.url
        check_axe(page)
        page.get_by_label("Code").fill(totp_now(secret))
        submit(page.get_by_role("button", name="Sign in"))
        assert "/accounts/2fa/" not in page.url, "the TOTP code was refused"

    return do_sign_in


@pytest.fixture
def shot():
    """`shot(page, name)`: a full-page screenshot under /tmp/shots for a person to look at."""

    def take(page, name):
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)

    return take
