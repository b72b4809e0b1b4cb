"""The journey of issue 7, as a small charity's programme lead would take it: theory of change,
indicators from the bank, two periods of results (one from a survey filled in on a shared
device), the PDF report, the IATI file, the evaluation in the library, and the city team's
portfolio. Every page checked with axe."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, axe, browser, check_axe, page, submit  # noqa: F401
from tests.browser.test_every_page import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world

    return build_world()


@pytest.fixture
def charity_lead(world):
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
    from locus.directory.services import organisation_list_in_place

    charity = OrganisationFactory(name="Neighbours Together")
    with place_scope(world.a.place):
        organisation_list_in_place(organisation=charity, place=world.a.place)
    user = UserFactory(email="lead@charity.test", name="Programme Lead")
    MembershipFactory(user=user, organisation=charity, role="editor")
    return user


def _add_indicator(page, check_axe, measure, target, baseline=None):  # noqa: F811
    submit(page.get_by_role("link", name="Add an indicator"))
    submit(page.get_by_role("link", name=re.compile("^Use this measure.*" + re.escape(measure))))
    check_axe(page)
    page.get_by_label("Target").fill(target)
    if baseline is not None:
        page.get_by_label(re.compile(r"^Baseline \(")).fill(baseline)
        page.get_by_label("Baseline year").fill("2025")
    submit(page.get_by_role("button", name="Save the indicator"))
    expect(page.get_by_text("Indicator saved.")).to_be_visible()


def test_from_theory_of_change_to_library(page, check_axe, world, charity_lead, live_server):  # noqa: F811
    from lxml import etree

    log_in(page, charity_lead, live_server)
    page.goto("/alpha/programmes/")
    check_axe(page)
    submit(page.get_by_role("link", name="New programme"))
    page.get_by_label("Title").fill("Bridges for young people")
    page.get_by_label("Start date").fill("2026-01-01")
    page.get_by_label("End date").fill("2026-12-31")
    page.get_by_label("Alphaville North").check()
    page.get_by_label("Type of intervention").select_option("community_engagement")
    page.get_by_label("Young people", exact=True).check()
    page.get_by_label("Budget").fill("25000")
    page.get_by_role("textbox", name=re.compile("^Funders")).fill("A Community Fund")
    submit(page.get_by_role("button", name="Save"))

    expect(page.get_by_role("heading", level=1, name="Theory of change")).to_be_visible()
    check_axe(page)
    page.get_by_label("The problem").fill("Young people rarely meet across groups.")
    page.get_by_label("Activities").fill("Weekly mixed sessions\nVolunteering days")
    page.get_by_label("Outputs").fill("100 young people take part")
    page.get_by_label("Short-term outcomes").fill("Trust across groups grows")
    page.get_by_label("Medium-term outcomes").fill("Fewer incidents between groups")
    page.get_by_label("Impact").fill("A shared neighbourhood")
    submit(page.get_by_role("button", name="Save the theory of change"))
    expect(page.locator("svg.toc-diagram")).to_be_visible()
    expect(page.locator(".toc-text")).to_contain_text("Volunteering days")
    check_axe(page)

    _add_indicator(page, check_axe, "Number of people who took part in at least one session", "100")
    _add_indicator(
        page,
        check_axe,
        "Share of people who agree their local area is a place where people from different "
        "backgrounds get on well together",
        "70",
        "50",
    )

    # First period: results entered by hand.
    submit(page.get_by_role("button", name="Add the period"))
    expect(page.get_by_role("heading", level=1, name=re.compile("Results for"))).to_be_visible()
    check_axe(page)
    values = page.get_by_label("Value")
    values.nth(0).fill("42")
    values.nth(1).fill("55")
    page.get_by_label("What happened in this period").fill("Sessions started well.")
    page.get_by_label(re.compile("These results are complete")).check()
    submit(page.get_by_role("button", name="Save the results"))
    expect(page.get_by_text("Results saved.")).to_be_visible()

    # Second period: the outcome from a survey on a shared device.
    submit(page.get_by_role("button", name="Add the period"))
    expect(page.get_by_role("heading", level=1, name=re.compile("1 Apr 2026"))).to_be_visible()
    submit(page.get_by_role("link", name="← Bridges for young people"))
    submit(page.get_by_role("link", name=re.compile("Measure with a survey")))
    check_axe(page)
    page.get_by_label("Period").select_option(index=1)
    submit(page.get_by_role("button", name="Create the survey"))
    survey_url = page.url
    check_axe(page)
    submit(page.get_by_role("link", name="Open on a shared device"))
    for answer in ("Strongly agree", "Agree", "Agree", "Disagree", "Strongly agree"):
        check_axe(page)
        page.get_by_role("group", name=re.compile("My local area")).get_by_label(
            answer, exact=True
        ).check()
        submit(page.get_by_role("button", name="Send my answers"))
        submit(page.get_by_role("link", name="Next person"))
    page.goto(survey_url)
    expect(page.locator(".big-figure")).to_have_text("80 %")
    submit(page.get_by_role("button", name="Use this value as the period's result"))
    expect(page.get_by_text("The indicator's value for the period was updated.")).to_be_visible()

    # The report, the PDF in French, the IATI file.
    submit(page.get_by_role("link", name="← Bridges for young people"))
    detail_url = page.url
    submit(page.get_by_role("link", name=re.compile("Web page")).last)
    expect(page.get_by_role("heading", level=2, name="Results")).to_be_visible()
    check_axe(page)
    pdf = page.request.get(page.get_by_role("link", name="PDF FR").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.goto(detail_url)
    xml = page.request.get(page.get_by_role("link", name="IATI file").get_attribute("href"))
    from django.conf import settings

    from .test_iati import OFFICIAL

    assert settings.BASE_DIR
    schema = etree.XMLSchema(etree.parse(str(OFFICIAL)))
    assert schema.validate(etree.fromstring(xml.body())), schema.error_log

    # The evaluation goes to the library editors.
    submit(page.get_by_role("button", name="Publish the evaluation to the library"))
    expect(page.get_by_text(re.compile("sent to the library editors"))).to_be_visible()
    check_axe(page)

    # The city team sees it in the portfolio.
    log_in(page, world.a.users["coordinator"], live_server)
    page.goto("/alpha/programmes/portfolio/")
    expect(page.get_by_role("link", name="Bridges for young people")).to_be_visible()
    check_axe(page)
