"""Browser fixtures: Debian's Chromium driven by Playwright, every page checked with axe.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety check
would refuse the ORM calls the tests make to build their data: allow them here (tests only).
"""

import os
import time
from urllib.parse import urlsplit

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

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


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def page(browser, live_server, settings):
    """A fresh browser context (no cookies) talking to the live server only.

    Any request to another host is aborted and recorded; console errors (CSP violations among
    them) and uncaught page errors are recorded too. The test fails at teardown if there were any.
    """
    from django.core.cache import cache

    # TOTP codes are remembered as used, and login attempts are rate-limited, in the cache.
    cache.clear()
    if os.environ.get("TMP_MASK_ORIGIN"):
        settings.CSRF_TRUSTED_ORIGINS = ["null"]
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


@pytest.fixture
def sign_in(check_axe):
    """`sign_in(page, user)`: sign in through the login and TOTP pages, checking both with axe."""
    from locus.core.testing.factories import PASSWORD

    def do_sign_in(page, user, *, secret=TOTP_SECRET):
        page.goto("/accounts/login/")
        check_axe(page)
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url("**/accounts/2fa/authenticate/")
        check_axe(page)
        page.get_by_label("Code").fill(totp_now(secret))
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/" not in url)

    return do_sign_in


@pytest.fixture
def shot():
    """`shot(page, name)`: a full-page screenshot under /tmp/shots for a person to look at."""

    def take(page, name):
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)

    return take
