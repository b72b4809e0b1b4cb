"""The main staff and public journeys, walked in a real browser; every page checked with axe."""

import json
import re

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world

    return build_world()


def test_sign_in_with_totp_lands_on_the_staff_home(page, world, check_axe, sign_in, shot):
    page.goto("/accounts/login/")
    check_axe(page)
    shot(page, "login")

    sign_in(page, world.a.users["admin"])

    expect(page).to_have_url(re.compile(r"/alpha/staff/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Alphaville Council")
    check_axe(page)
    shot(page, "staff_home")
