"""The error summary as a person meets it: after sending a staff form with a mistake, the
summary at the top has the focus (a screen reader reads it first), axe finds nothing wrong,
and following a link in it puts the cursor in the field, whose error is next to it."""

import pytest

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
