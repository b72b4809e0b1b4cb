"""The webhook pages in a real browser, with and without JavaScript: an administrator creates an
endpoint and copies its secret, reads the delivery log, retries a dead message, makes a new
secret and disables the endpoint — every page checked with axe (with JavaScript)."""

import pytest
from django.db import transaction
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
    """(page, check): the `page` fixture's page and axe; or a page with JavaScript switched off
    (axe is JavaScript: the same journey is walked unchecked)."""
    if request.param == "with JavaScript":
        yield page, check_axe
        return
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    yield context.new_page(), lambda page: None
    context.close()


def dead_message(world):
    from locus.core.tenancy import place_scope
    from locus.outbox.models import OutboxMessage
    from locus.outbox.services import outbox_enqueue_webhook, webhook_endpoint_create

    with place_scope(world.a.place):
        endpoint, _secret = webhook_endpoint_create(
            place=world.a.place,
            organisation=world.a.organisation,
            url="https://down.example.org/hook",
        )
        with transaction.atomic():
            message = outbox_enqueue_webhook(
                place=world.a.place, endpoint=endpoint, event_type="report.routed", payload={}
            )
        OutboxMessage.objects.filter(pk=message.pk).update(status="dead", last_error="HTTP 503")
    return message


def test_an_administrator_manages_webhooks(browse, world, live_server):
    tab, check = browse
    message = dead_message(world)
    log_in(tab, world.a.users["admin"], live_server)
    tab.goto("/alpha/staff/")
    submit(tab.get_by_role("navigation", name="Staff").get_by_role("link", name="Webhooks"))
    expect(tab.get_by_role("table", name="Endpoints of Alphaville Council")).to_contain_text(
        "https://down.example.org/hook"
    )
    check(tab)

    submit(tab.get_by_role("link", name="New endpoint"))
    check(tab)
    tab.get_by_label("Address (URL)").fill("ftp://wrong.example.org/")
    response = submit(tab.get_by_role("button", name="Create endpoint"))
    assert response.status == 422
    expect(tab.get_by_label("Address (URL)")).to_have_value("ftp://wrong.example.org/")
    check(tab)
    tab.get_by_label("Address (URL)").fill("https://cases.example.org/locus")
    tab.get_by_label("A report reached the organisation (routed or handed on)").check()
    submit(tab.get_by_role("button", name="Create endpoint"))
    secret = tab.locator("#signing-secret").inner_text()
    assert secret.startswith("whsec_")
    check(tab)
    # Reloading the page shows the endpoint, not the secret again, and creates nothing.
    tab.reload()
    expect(tab.get_by_text("The signing secret is shown only once")).to_be_visible()
    expect(tab.locator("#signing-secret")).to_have_count(0)
    tab.goto("/alpha/staff/webhooks/")
    expect(tab.get_by_role("table", name="Endpoints of Alphaville Council")).to_contain_text(
        "https://cases.example.org/locus", use_inner_text=True
    )
    assert tab.get_by_role("link", name="https://cases.example.org/locus").count() == 1

    tab.goto("/alpha/staff/webhooks/")
    submit(tab.get_by_role("link", name="https://down.example.org/hook"))
    expect(tab.get_by_role("table", name="Messages sent to this endpoint")).to_contain_text(
        message.message_id
    )
    check(tab)
    submit(tab.get_by_role("button", name=f"Retry now {message.message_id}"))
    expect(tab.get_by_text(f"Message {message.message_id} will be sent again now.")).to_be_visible()

    tab.get_by_label("Stop signing with the old secret at once").check()
    submit(tab.get_by_role("button", name="Make a new secret"))
    assert tab.locator("#signing-secret").inner_text().startswith("whsec_")
    check(tab)
    submit(tab.get_by_role("link", name="Back to the endpoint"))
    submit(tab.get_by_role("button", name="Disable"))
    expect(tab.get_by_text("Endpoint disabled.")).to_be_visible()
    check(tab)
