"""The insights filters keep long taxonomy labels readable (German has the longest words): on a
phone and on a laptop, the chosen value of each taxonomy filter (and of the exports' scheme,
90 characters) is shown whole, wrapped onto more lines where it does not fit on one, and
nothing is wider than the screen."""

import os
from datetime import date

import pytest

from .conftest import SHOTS
from .test_every_page import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

# The longest German label of each taxonomy filter.
LONGEST = {
    "bias": "anti_indigenous",
    "incident_type": "literature_propaganda",
    "setting": "event_demonstration",
}

# How tall the select must be to show its chosen text whole: a block with the select's width,
# font, padding and border holding that text, wrapped as any text.
MEASURE = """select => {
    const style = getComputedStyle(select);
    const box = document.createElement("div");
    for (const name of ["font", "letterSpacing", "lineHeight", "padding", "border",
                        "boxSizing", "width"]) {
        box.style[name] = style[name];
    }
    box.style.position = "absolute";
    box.style.visibility = "hidden";
    box.textContent = select.options[select.selectedIndex].text;
    document.body.append(box);
    const needed = box.offsetHeight;
    box.remove();
    const rect = select.getBoundingClientRect();
    return {height: select.offsetHeight, needed, right: rect.right, text: box.textContent};
}"""


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world

    return build_world()


def _check_shown_whole(page, name, expected):
    viewport = page.evaluate("document.documentElement.clientWidth")
    found = page.locator(f"select[name={name}]").evaluate(MEASURE)
    assert found["text"].strip() == expected
    assert found["height"] >= found["needed"], (name, viewport, found)
    assert found["right"] <= viewport, (name, viewport, found)


SIZES = [(360, 740), (1280, 800)]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_long_taxonomy_labels_are_shown_whole(page, world, live_server, check_axe, width, height):
    from locus.reporting.taxonomy import taxonomy

    log_in(page, world.a.users["analyst"], live_server)
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    page.set_viewport_size({"width": width, "height": height})
    query = "&".join(f"{name}={code}" for name, code in LONGEST.items())
    page.goto(f"/alpha/insights/?{query}")
    check_axe(page)
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"insights-filters-de-{width}.png"), full_page=True)
    for name, code in LONGEST.items():
        _check_shown_whole(page, name, taxonomy().label(name, code, "de"))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_long_scheme_names_are_shown_whole(page, world, live_server, check_axe, width, height):
    from locus.accounts.models import NetworkMembership
    from locus.core.testing.factories import UserFactory
    from locus.insights.tests.open_data_helpers import make_many
    from locus.reporting.taxonomy import taxonomy

    make_many(world.a.place, [(date(2025, 3, 10), None, "threat", ["antisemitism"], 12)])
    log_in(page, world.a.users["analyst"], live_server)
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/alpha/insights/exports/?scheme=de_pmk&start=2025-01-01&end=2025-12-31")
    check_axe(page)
    _check_shown_whole(page, "scheme", taxonomy().scheme("de_pmk").label("de"))

    viewer = UserFactory(email="hub@network.test", name="National Hub")
    NetworkMembership.objects.create(user=viewer, network=world.a.place.network)
    log_in(page, viewer, live_server)
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    page.goto(f"/network/{world.a.place.network.slug}/insights/?month=2025-03")
    check_axe(page)
    _check_shown_whole(page, "scheme", taxonomy().scheme("uk_strands").label("de"))
