"""The Where step's "pick your area on the map" in a real browser: clicking an area on the map
chooses it in the Area list (which the form sends), choosing in the list highlights it on the
map, nothing is loaded from another host (no map tiles) and axe is clean. With JavaScript off
the map stays hidden and the list alone does the job. The browser fixtures are the suite's own
(tests/browser/conftest.py); its `page` fails the test on any request to another host and on
any console error, CSP violations included."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from locus.core.tenancy import place_scope
from tests.browser.conftest import (  # noqa: F401
    TIMEOUT_MS,
    axe,
    browser,
    check_axe,
    page,
    shot,
    submit,
)

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


def to_the_where_step(tab):
    tab.goto("/alpha/report/")
    tab.get_by_role("group", name="What happened?").get_by_label("Physical attack").check()
    submit(tab.get_by_role("button", name="Continue", exact=True))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Where")


def chosen(tab):
    return tab.get_by_label("Area").locator("option:checked")


def test_pick_the_area_on_the_map(page, world, check_axe, shot, live_server):  # noqa: F811
    north, south = world.a.areas
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    to_the_where_step(page)
    shapes = page.locator("#area-map path.area-shape")
    expect(shapes).to_have_count(2)  # Alphaville's areas only, drawn from its GeoJSON
    expect(page.get_by_text("Or pick your area on the map")).to_be_visible()
    expect(page.locator("#area-map")).to_have_attribute("aria-hidden", "true")
    expect(chosen(page)).to_have_text("I don't know")
    check_axe(page)

    # A click on the map chooses the area in the list, and highlights it.
    page.locator(f'#area-map path[data-area="{south.pk}"]').click()
    expect(chosen(page)).to_have_text("Alphaville South")
    expect(page.get_by_label("Area")).to_have_value(str(south.pk))
    expect(page.locator("#area-map path.is-selected")).to_have_count(1)
    expect(page.locator(f'#area-map path[data-area="{south.pk}"]')).to_have_class(
        re.compile(r"\bis-selected\b")
    )
    shot(page, "report_area_map")

    # A choice in the list moves the highlight on the map; "I don't know" clears it.
    page.get_by_label("Area").select_option(label="Alphaville North")
    expect(page.locator("#area-map path.is-selected")).to_have_attribute("data-area", str(north.pk))
    page.get_by_label("Area").select_option(label="I don't know")
    expect(page.locator("#area-map path.is-selected")).to_have_count(0)

    # What the map chose is what the form sends: back on the step, list and map still agree.
    page.locator(f'#area-map path[data-area="{south.pk}"]').click()
    page.get_by_role("group", name="What kind of place was it?").get_by_label(
        "Public transport"
    ).check()
    submit(page.get_by_role("button", name="Continue", exact=True))
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Where")
    submit(page.get_by_role("button", name="Back", exact=True))
    expect(chosen(page)).to_have_text("Alphaville South")
    expect(page.locator("#area-map path.is-selected")).to_have_attribute("data-area", str(south.pk))
    check_axe(page)

    origin = urlsplit(live_server.url).netloc
    assert any(url.endswith("/api/v1/places/alpha/areas") for url in requests), requests
    foreign = [url for url in requests if urlsplit(url).netloc not in {origin, ""}]
    assert not foreign, f"requests to other hosts: {foreign}"


def test_the_list_alone_without_javascript(browser, live_server, world, axe):  # noqa: F811
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    # axe cannot run where scripts are off: the page as served is checked in a second context.
    checker_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    checker = checker_context.new_page()
    checker.goto("/alpha/")
    try:
        to_the_where_step(tab)
        expect(tab.locator("#area-map")).to_be_hidden()
        expect(tab.get_by_text("Or pick your area on the map")).to_be_hidden()
        checker.set_content(tab.content(), wait_until="load")
        violations = axe.run(checker).response["violations"]
        assert not violations, [f"{v['id']} {v['help']}" for v in violations]

        tab.get_by_label("Area").select_option(label="Alphaville South")
        tab.get_by_role("group", name="What kind of place was it?").get_by_label(
            "Public transport"
        ).check()
        submit(tab.get_by_role("button", name="Continue", exact=True))
        expect(tab.get_by_role("heading", level=1)).not_to_have_text("Where")
        submit(tab.get_by_role("button", name="Back", exact=True))
        expect(chosen(tab)).to_have_text("Alphaville South")
    finally:
        context.close()
        checker_context.close()


def test_an_areas_name_is_shown_as_text_never_as_markup(page, world):  # noqa: F811
    """Area names come from imported boundary files; Leaflet would put a string tooltip in
    with innerHTML, so a name holding markup must show as the characters typed."""
    north, _south = world.a.areas
    name = '<b id="injected">North</b> & co'
    with place_scope(world.a.place):
        type(north).objects.filter(pk=north.pk).update(name=name)
    cache.clear()  # the areas' GeoJSON is cached until an area changes through its service
    to_the_where_step(page)
    page.locator(f'#area-map path[data-area="{north.pk}"]').hover()
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_have_text(name)
    expect(page.locator("#injected")).to_have_count(0)


def test_escape_hides_the_areas_name_shown_on_hover(page, world):  # noqa: F811
    """WCAG 1.4.13: content shown on hover can be dismissed without moving the pointer. One
    Escape hides the tooltip (twice in a row would be the quick exit)."""
    _north, south = world.a.areas
    to_the_where_step(page)
    page.locator(f'#area-map path[data-area="{south.pk}"]').hover()
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_have_text("Alphaville South")
    page.keyboard.press("Escape")
    expect(tooltip).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/alpha/report/$"))  # still here: no quick exit


def test_the_keyboard_goes_from_the_kind_of_place_straight_to_the_area_list(page, world):  # noqa: F811
    """The map is for pointers only (aria-hidden). Leaflet listens for focus on each shape that
    has a tooltip, and Chromium makes an SVG shape with a focus listener a Tab stop: a keyboard
    user had to Tab through every area (33 in London) of a block screen readers do not see."""
    to_the_where_step(page)
    expect(page.locator("#area-map path.area-shape")).to_have_count(2)
    page.get_by_role("group", name="What kind of place was it?").get_by_label(
        "Public transport"
    ).focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Area")).to_be_focused()
    # A click still picks the area.
    _north, south = world.a.areas
    page.locator(f'#area-map path[data-area="{south.pk}"]').click()
    expect(chosen(page)).to_have_text("Alphaville South")
