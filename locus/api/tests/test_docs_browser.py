"""Swagger UI at /api/v1/docs works under the site's strict CSP, from this host only."""

import os
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
]


@pytest.mark.browser
def test_swagger_ui_renders_without_csp_violations_or_other_hosts(live_server):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    origin = urlsplit(live_server.url).netloc
    foreign, problems = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(base_url=live_server.url)
            context.set_default_timeout(10_000)

            def only_this_host(route):
                url = urlsplit(route.request.url)
                if url.scheme in {"data", "blob"} or url.netloc == origin:
                    route.continue_()
                else:
                    foreign.append(route.request.url)
                    route.abort()

            context.route("**/*", only_this_host)
            page = context.new_page()
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e =>"
                " console.error('CSP violation', e.violatedDirective, e.blockedURI))"
            )
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))

            response = page.goto("/api/v1/docs")
            assert response.status == 200
            assert "'unsafe-inline'" not in response.headers["content-security-policy"]
            page.wait_for_selector("#operations-places-locus_places_api_places_list")
            # Open an operation and call it: the request interceptor, the response renderer and
            # its syntax highlighting all run.
            page.locator("#operations-places-locus_places_api_places_list .opblock-summary").click()
            page.get_by_role("button", name="Try it out").click()
            page.get_by_role("button", name="Execute").click()
            status = page.locator(".live-responses-table tbody .response-col_status").first
            assert status.inner_text().strip() == "200"
            page.get_by_role("button", name="Authorize").first.click()
            page.wait_for_selector(".modal-ux")
        finally:
            browser.close()
    assert foreign == []
    assert problems == []
