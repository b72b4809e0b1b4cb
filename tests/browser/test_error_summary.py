"""The error summary as a person meets it: after sending a staff form with a mistake, the
summary at the top has the focus (a screen reader reads it first), axe finds nothing wrong,
and following a link in it puts the cursor in the field, whose error is next to it."""

import pytest
from playwright.sync_api import expect

from .conftest import submit
from .test_every_page import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world

    return build_world()


def test_the_summary_takes_the_focus_and_leads_to_the_field(page, live_server, world, check_axe):
    """The focus is HTML's (autofocus): no script of Locus moves it."""
    log_in(page, world.a.users["admin"], live_server)
    page.goto("/alpha/staff/webhooks/new/")
    page.fill("#id_url", "not an address")
    page.fill("#id_description", "Our case system")
    response = submit(page.locator("main button[type=submit]"))
    assert response.status == 422
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    check_axe(page)
    page.locator("#error-summary a").first.click()
    assert page.evaluate("document.activeElement.id") == "id_url"
    assert page.input_value("#id_url") == "not an address"
    assert page.input_value("#id_description") == "Our case system"
    assert page.locator("#id_url_error").is_visible()


@pytest.mark.parametrize(
    ("language", "title", "refused"),
    [
        ("en", "Error: ", "Choose what happened"),
        ("fr", "Erreur\u00a0: ", "Choisissez ce qui s’est passé"),
    ],
)
def test_a_refused_step_of_the_report_journey_on_a_phone(
    page, live_server, world, check_axe, shot, language, title, refused
):
    """A resident's step sent with a mistake, on a 360 px wide phone, in English and French:
    the same summary as a staff form (focused, axe-clean, leading to the field), in the
    journey's narrow column, the quick exit still first."""
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/alpha/report/")
    response = submit(page.locator("#journey-form .journey-buttons button[value=next]"))
    assert response.status == 422
    assert page.title().startswith(title), page.title()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    summary = page.locator("#error-summary")
    expect(summary).to_be_in_viewport()
    expect(summary.locator("a").first).to_contain_text(refused)
    expect(page.locator(".quick-exit-button")).to_be_visible()
    # Nothing runs sideways off a phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    check_axe(page)
    shot(page, f"report_step_errors_360_{language}")
    summary.locator("a").first.click()
    assert page.evaluate("document.activeElement.id") == "id_what-incident_type_0"
    expect(page.locator("#id_what-incident_type_error")).to_be_visible()
