"""The insights filters keep long taxonomy labels readable (German has the longest words): on a
phone and on a laptop, the chosen value of each taxonomy filter is shown whole, wrapped onto
more lines where it does not fit on one, and nothing is wider than the screen."""

import os

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


@pytest.mark.parametrize(("width", "height"), [(360, 740), (1280, 800)])
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
    viewport = page.evaluate("document.documentElement.clientWidth")
    for name, code in LONGEST.items():
        select = page.locator(f"select[name={name}]")
        found = select.evaluate(MEASURE)
        assert found["text"].strip() == taxonomy().label(name, code, "de")
        assert found["height"] >= found["needed"], (name, width, found)
        assert found["right"] <= viewport, (name, width, found)
