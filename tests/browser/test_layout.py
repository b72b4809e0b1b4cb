"""Layout as people see it. On a phone (390 px wide), in German (long words): nothing widens the
page beyond the screen (wide tables scroll on their own), and every text field is a full,
tappable field. In staff forms, a check box has its label beside it, as in the report form."""

from datetime import timedelta

import pytest
from django.utils import timezone

from .conftest import submit
from .test_every_page import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world

    return build_world()


def page_overflow(page):
    """How far the page reaches beyond the screen, in CSS pixels (0: it fits)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def on_phone_in_german(page, live_server):
    page.set_viewport_size(PHONE)
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])


def test_the_report_form_fits_a_phone(page, world, live_server):
    on_phone_in_german(page, live_server)
    page.goto("/alpha/report/")
    assert page_overflow(page) == 0
    page.locator("input[name$=incident_type]").nth(1).check()
    submit(page.locator(".journey-buttons button[value=next]"))
    # Step 2: the platform list's longest German option no longer widens its fieldset.
    assert page.locator("select[name$=platform]").is_visible()
    assert page_overflow(page) == 0
    page.locator("input[name$=setting]").first.check()
    submit(page.locator(".journey-buttons button[value=next]"))
    page.locator("input[name$=bias]").first.check()
    page.locator("textarea").first.fill("Beschimpfungen an der Haltestelle.")
    submit(page.locator(".journey-buttons button[value=next]"))
    page.locator("input[name$=reporter_role]").first.check()
    submit(page.locator(".journey-buttons button[value=next]"))
    # Step 5: the phone number is a field like the e-mail address above it, not a sliver.
    email = page.locator("input[type=email]").bounding_box()
    phone = page.locator("input[type=tel]").bounding_box()
    assert phone["height"] >= 24 and phone["height"] == pytest.approx(email["height"], abs=1)
    assert phone["width"] == pytest.approx(email["width"], abs=1)
    assert page_overflow(page) == 0
    # At 320 px (400 % zoom) a long German word of a choice ("Unterstützungsorganisation")
    # wraps inside its panel instead of running past its edge.
    page.set_viewport_size({"width": 320, "height": 640})
    overrun = page.locator("div.choice").evaluate_all(
        "rows => rows.map(r => r.scrollWidth - r.clientWidth).filter(d => d > 0)"
    )
    assert not overrun, overrun
    page.set_viewport_size(PHONE)
    submit(page.locator(".journey-buttons button[value=next]"))
    # Step 6: each answer is read under its question, the whole width of the panel, not in a
    # sliver beside it with its words broken letter by letter.
    narrowest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('.check-list > div')].map(
            row => row.querySelector('dd').offsetWidth / row.offsetWidth))"""
    )
    assert narrowest > 0.8  # side by side, 0.27
    assert page_overflow(page) == 0
    # The receipt's codes (large, monospaced) wrap at 320 px (400 % zoom) rather than scroll.
    page.set_viewport_size({"width": 320, "height": 640})
    submit(page.get_by_role("button", name="Meldung absenden"))
    assert page.locator("#followup-code").is_visible()
    assert page_overflow(page) == 0


def test_staff_tables_scroll_inside_the_page_on_a_phone(page, world, live_server):
    from locus.core.tenancy import place_scope
    from locus.insights.tests.helpers import add_case, add_report

    a = world.a
    today = timezone.localdate()
    with place_scope(a.place):
        for i in range(6):
            report = add_report(a.place, today - timedelta(days=3 * i), area=a.areas[i % 2])
            add_case(report, a.organisation)
    log_in(page, a.users["coordinator"], live_server)
    on_phone_in_german(page, live_server)
    for path in (
        "/alpha/staff/cases/",
        "/alpha/insights/",
        "/alpha/insights/service/",
        "/alpha/insights/alerts/",
        "/alpha/directory/",
        "/alpha/programmes/portfolio/",
        "/library/map/",
    ):
        response = page.goto(path)
        assert response.status == 200, path
        assert page_overflow(page) == 0, path
    # The insights' tables are wider than the phone: they scroll in their own boxes. The
    # inbox's table stacks instead (table-stack), so that a case's status is on the screen.
    page.goto("/alpha/insights/")
    assert page.locator(".table-scroll").evaluate_all(
        "boxes => boxes.some(e => e.scrollWidth > e.clientWidth)"
    )
    page.goto("/alpha/staff/cases/")
    box = page.locator(".table-scroll").first
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth")
    status = page.locator("td[data-label=Status]").first.bounding_box()
    assert status["x"] + status["width"] <= PHONE["width"]


@pytest.mark.parametrize(
    ("path", "box_label"),
    [
        ("/alpha/staff/routing/new/", "Fallback rule"),
        # The directory's own stylesheet once restyled these (bold labels): one rule for all.
        ("/alpha/directory/organisations/{organisation}/services/new/", "Serves the whole place"),
    ],
    ids=["routing-rule", "directory-service"],
)
def test_a_check_box_in_a_staff_form_has_its_label_beside_it(
    page, world, live_server, path, box_label
):
    """The shared field template's check boxes, outside the report journey's own stylesheet,
    styled by the shared rule alone (locus.css)."""
    log_in(page, world.a.users["coordinator"], live_server)
    page.goto(path.format(organisation=world.a.organisation.pk))
    box = page.get_by_label(box_label, exact=True)
    label = page.locator(f"label[for='{box.get_attribute('id')}']")
    b, t = box.bounding_box(), label.bounding_box()
    assert t["x"] > b["x"] + b["width"]  # to the right of the box…
    assert t["y"] < b["y"] + b["height"]  # …on the same line, not below it
    assert label.evaluate("e => getComputedStyle(e).fontWeight") == "400"
    help_text = page.locator(".choice-help").first
    assert help_text.evaluate("e => getComputedStyle(e).fontSize") == "14.4px"


def test_check_boxes_keep_their_size_beside_a_label_that_wraps(page, world, live_server):
    """A box in a flex label shrank when its label wrapped onto two lines (the directory's
    narrow target-group columns): every box of a list is the same size."""
    page.set_viewport_size({"width": 1000, "height": 900})
    log_in(page, world.a.users["coordinator"], live_server)
    page.goto(f"/alpha/directory/organisations/{world.a.organisation.pk}/services/new/")
    sizes = page.locator("input[name=target_groups]").evaluate_all(
        "boxes => boxes.map(b => Math.round(b.getBoundingClientRect().width * 10))"
    )
    assert len(sizes) > 10 and len(set(sizes)) == 1, sizes


def test_the_quick_exit_bar_never_covers_what_a_link_leads_to(page, world, live_server):
    """The bar stays on top of the page as it scrolls: a link to a part of the page (such as a
    follow-up thread, /follow-up/#thread-7) scrolls that part below the bar, not under it."""
    page.set_viewport_size(PHONE)
    page.goto("/alpha/report/")
    target = page.locator("input[name$=incident_type]").nth(3)
    page.goto(f"/alpha/report/#{target.get_attribute('id')}")
    assert page.evaluate("scrollY") > 0
    bar = page.locator(".quick-exit").bounding_box()
    assert target.bounding_box()["y"] >= bar["y"] + bar["height"]


def test_the_network_roll_up_and_its_exports_fit_a_phone(page, world, live_server):
    """The scheme list's longest name (90 characters, longer in German) widened its row of
    fields, and the page, to twice the screen: a field now shrinks to the row."""
    from datetime import date

    from locus.accounts.models import NetworkMembership
    from locus.core.testing.factories import UserFactory
    from locus.insights.tests.open_data_helpers import make_many

    north, _south = world.a.areas
    make_many(world.a.place, [(date(2025, 3, 10), north, "threat", ["antisemitism"], 12)])
    viewer = UserFactory(email="hub@network.test", name="National Hub")
    NetworkMembership.objects.create(user=viewer, network=world.a.place.network)
    log_in(page, viewer, live_server)
    on_phone_in_german(page, live_server)
    page.goto(f"/network/{world.a.place.network.slug}/insights/?month=2025-03")
    scheme = page.locator("select[name=scheme]")
    assert scheme.is_visible()
    assert page_overflow(page) == 0
    assert scheme.bounding_box()["width"] <= PHONE["width"]


def test_visually_hidden_text_stays_inside_its_scrolling_box(page, world, live_server):
    """A visually hidden span is positioned absolutely: inside a box that scrolls but is not
    positioned itself it escaped the box, widening the page on a phone (the programme's
    reporting periods, whose report links name their period for screen readers) and lengthening
    it far below the footer (the indicator bank's list, which scrolls within 40rem)."""
    from locus.programmes.tests.factories import full_programme

    p = full_programme(world.a)["programme"]
    log_in(page, world.a.users["editor"], live_server)
    on_phone_in_german(page, live_server)
    page.goto(f"/alpha/programmes/{p.pk}/")
    assert page_overflow(page) == 0
    page.goto(f"/alpha/programmes/{p.pk}/indicators/new/")
    below_footer = page.evaluate(
        "() => document.documentElement.scrollHeight"
        " - (document.querySelector('footer').getBoundingClientRect().bottom + window.scrollY)"
    )
    assert below_footer <= 1


def test_the_case_page_reads_on_a_tablet(page, world, live_server, shot):
    """On a tablet (768 px) the case page's report and routing panels sit side by side, each
    about 320 px wide inside: beside a label column of up to 14rem, the reporter's account was
    a sliver a word or two wide, broken mid-word. In so narrow a panel labels and values stack."""
    from locus.cases.tests.factories import team_case

    case = team_case(world.a, evidence=False)
    log_in(page, world.a.users["caseworker"], live_server)
    page.set_viewport_size({"width": 768, "height": 1024})
    page.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    assert page.goto(f"/alpha/staff/cases/{case.pk}/").status == 200
    shot(page, "case_page_tablet_fr")
    assert page_overflow(page) == 0
    for heading in ("#report-heading", "#routing-heading"):
        panel = page.locator(f"section:has(> {heading})")
        inner = panel.evaluate("e => e.clientWidth")
        widths = panel.locator(".facts dd").evaluate_all(
            "items => items.map(d => d.getBoundingClientRect().width)"
        )
        assert widths and min(widths) > inner * 0.6, (heading, inner, widths)
    # On a laptop the same panels keep labels and values side by side.
    page.set_viewport_size({"width": 1280, "height": 800})
    dt = page.locator("section:has(> #report-heading) .facts dt").first.bounding_box()
    dd = page.locator("section:has(> #report-heading) .facts dd").first.bounding_box()
    assert dd["x"] > dt["x"] + dt["width"] and dd["y"] == pytest.approx(dt["y"], abs=2)


NARROWEST = {"width": 320, "height": 640}  # WCAG 1.4.10: 1280 px at 400 % zoom

# WCAG 1.4.12: what a reader's own style sheet may set, inserted through the CSS object model
# (the content security policy refuses a <style> element, rightly).
TEXT_SPACING = (
    "() => { const sheet = document.styleSheets[0];"
    " sheet.insertRule('* { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
    " word-spacing: 0.16em !important; }', sheet.cssRules.length);"
    " sheet.insertRule('p { margin-bottom: 2em !important; }', sheet.cssRules.length); }"
)


def test_the_most_used_pages_reflow_at_320_px(page, world, live_server):
    """At 320 CSS px (400 % zoom) nothing scrolls sideways: the place's home and the case page
    (their two-column grids asked for 20rem = 320 px per column, more than the screen less its
    margins), the programme's results form (a value and its comment side by side, the comment
    wider than its row), and the library's search with a reader's text spacing."""
    from locus.cases.tests.factories import team_case
    from locus.programmes.tests.factories import full_programme

    page.set_viewport_size(NARROWEST)
    assert page.goto("/alpha/").status == 200
    assert page_overflow(page) == 0, "place home"
    page.goto("/library/")
    page.evaluate(TEXT_SPACING)
    assert page_overflow(page) == 0, "library search with text spacing"

    case = team_case(world.a, evidence=False)
    log_in(page, world.a.users["caseworker"], live_server)
    assert page.goto(f"/alpha/staff/cases/{case.pk}/").status == 200
    assert page_overflow(page) == 0, "case page"

    made = full_programme(world.a)
    log_in(page, world.a.users["editor"], live_server)
    path = f"/alpha/programmes/{made['programme'].pk}/periods/{made['period'].pk}/"
    assert page.goto(path).status == 200
    assert page_overflow(page) == 0, "results form"
    # Each field of a result stays inside its bordered row.
    beyond = page.locator(".result-row").evaluate_all(
        """rows => rows.flatMap(row => [...row.querySelectorAll('input')].map(
            input => input.getBoundingClientRect().right - row.getBoundingClientRect().right))"""
    )
    assert beyond and max(beyond) <= 0, beyond


def test_chart_and_map_keys_keep_their_colours_in_forced_colours(page, world, live_server):
    """Windows high contrast paints backgrounds in the system colour: every key of the map's
    legend turned the same blank box, and the chart's bar and hatched (provisional) keys too,
    while the map and chart kept their colours. The keys, and the charts on white, keep theirs."""
    from locus.core.tenancy import place_scope
    from locus.insights.tests.helpers import add_report

    a = world.a
    today = timezone.localdate()
    with place_scope(a.place):
        for i in range(8):
            add_report(a.place, today - timedelta(days=9 * i), area=a.areas[i % 2])
    log_in(page, a.users["coordinator"], live_server)
    page.emulate_media(forced_colors="active")
    assert page.goto("/alpha/insights/").status == 200
    swatches = page.locator(".map-legend .swatch").evaluate_all(
        "keys => keys.map(k => getComputedStyle(k).backgroundColor)"
    )
    assert len(swatches) > 1 and len(set(swatches)) == len(swatches), swatches
    bar_key = page.locator(".key-bar").first.evaluate("k => getComputedStyle(k).backgroundColor")
    assert bar_key == "rgb(11, 92, 77)"  # var(--brand), as the bars
    chart = page.locator("svg.chart-svg").first.evaluate("c => getComputedStyle(c).backgroundColor")
    assert chart == "rgb(255, 255, 255)"


def test_reduced_motion_is_honoured(page, world):
    """Asked for less motion, nothing animates or transitions (Leaflet's maps among others)."""
    page.emulate_media(reduced_motion="reduce")
    page.goto("/alpha/")
    duration = page.evaluate(
        """() => { const d = document.createElement('div'); d.style.transition = 'opacity 2s';
            document.body.append(d); return getComputedStyle(d).transitionDuration; }"""
    )
    assert duration != "2s"


def test_the_quick_exit_still_looks_like_a_button_in_forced_colours(page, world):
    """Its white background is dropped in forced colours; its border (transparent otherwise) is
    drawn instead, so it still reads as a button and not as a stray word at the top."""
    page.emulate_media(forced_colors="active")
    page.goto("/alpha/report/")
    border = page.locator(".quick-exit-button").evaluate(
        "b => [getComputedStyle(b).borderTopStyle, getComputedStyle(b).borderTopColor]"
    )
    assert border[0] == "solid" and not border[1].endswith(", 0)"), border


def test_the_coverage_tables_column_names_are_not_cut_off(page, world, live_server):
    """The type-of-service headings stand on end, kept on one line: the longest ("Third-party
    reporting centre", longer in German) ran past their cell and were cut off. They wrap onto a
    second line now, each shown whole. In forced colours the cells keep the colours their legend
    shows (the table's backgrounds were dropped while the legend's keys kept theirs)."""
    log_in(page, world.a.users["coordinator"], live_server)
    for language in ("en", "de"):
        page.context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        assert page.goto("/alpha/directory/coverage/").status == 200
        cut = page.locator("th.matrix-type").evaluate_all(
            """cells => cells.filter(c => c.scrollHeight > c.clientHeight + 1
                || c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)"""
        )
        assert page.locator("th.matrix-type").count() > 5
        assert not cut, (language, cut)
    page.emulate_media(forced_colors="active")
    page.reload()
    gap_key = page.locator(".legend .swatch.cell-gap").evaluate(
        "k => getComputedStyle(k).backgroundColor"
    )
    gap_cell = page.locator("td.cell-gap").first.evaluate(
        "c => getComputedStyle(c).backgroundColor"
    )
    assert gap_cell == gap_key == "rgb(251, 227, 227)"


def test_a_fieldsets_long_legend_stays_inside_its_box_on_a_small_phone(page, world, live_server):
    """On a 360 px phone, "Who may receive your report? (optional)" wraps: a legend drawn on
    the fieldset's top border had its second line, "(optional)", under the border line,
    inside the box, and the first line across it. The legend sits inside the box, below a
    whole border."""
    page.set_viewport_size({"width": 360, "height": 800})
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    page.goto("/alpha/report/")
    page.locator("input[name$=incident_type]").nth(1).check()
    submit(page.locator(".journey-buttons button[value=next]"))
    page.locator("input[name$=setting]").first.check()
    submit(page.locator(".journey-buttons button[value=next]"))
    page.locator("input[name$=bias]").first.check()
    page.locator("textarea").first.fill("Beschimpfungen an der Haltestelle.")
    submit(page.locator(".journey-buttons button[value=next]"))
    page.locator("input[name$=reporter_role]").first.check()
    submit(page.locator(".journey-buttons button[value=next]"))
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('fieldset.subsection')].map(set => {
            const legend = set.querySelector(':scope > legend');
            const border = parseFloat(getComputedStyle(set).borderTopWidth);
            return {set: set.getBoundingClientRect().top + border,
                    legend: legend.getBoundingClientRect().top,
                    lines: Math.round(legend.getBoundingClientRect().height /
                                      parseFloat(getComputedStyle(legend).lineHeight))};
        })"""
    )
    assert len(boxes) == 2
    assert max(box["lines"] for box in boxes) >= 2  # the case in point: a legend that wraps
    for box in boxes:
        assert box["legend"] >= box["set"], box  # below the border, not across it


def test_the_evidence_maps_gaps_stay_marked_in_forced_colours(page, world, live_server):
    """Windows high contrast drops background colours and gradients: the map's gap cells lost
    their hatched tint and looked like any other cell, while the legend's gap key kept it. The
    gaps keep the key's tint and hatching, and a dashed outline in the system's text colour."""
    from locus.library.tests.factories import make_record

    make_record(
        title="Mentoring trial",
        interventions=["mentoring"],
        outcomes=["attitudes"],
        evidence_level="experimental",
    )
    page.emulate_media(forced_colors="active")
    assert page.goto("/library/map/").status == 200
    style = """e => { const s = getComputedStyle(e);
        return [s.backgroundColor, s.backgroundImage, s.outlineStyle]; }"""
    key = page.locator(".gap-swatch").first.evaluate(style)
    gap = page.locator("td.map-gap").first.evaluate(style)
    assert gap[0] == key[0] == "rgb(251, 243, 230)", (gap, key)
    assert "repeating-linear-gradient" in gap[1], gap
    assert gap[2] == "dashed", gap
    # A cell with resources is not drawn as a gap.
    other = page.locator("td.map-cell:not(.map-gap)").first.evaluate(style)
    assert other[0] != gap[0] and other[2] != "dashed", other
    # The small bars of the evidence levels keep the colours of the levels' legend keys.
    bar = page.locator(".map-bar rect.filled").first
    rank = next(c for c in bar.get_attribute("class").split() if c.startswith("level-"))
    fill = bar.evaluate("r => getComputedStyle(r).fill")
    key = page.locator(f".level-swatch.{rank}").evaluate("k => getComputedStyle(k).backgroundColor")
    assert fill == key, (rank, fill, key)
