"""The IATI file validates against the official IATI 2.03 activity schema."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from locus.core.tenancy import place_scope
from locus.programmes import iati
from locus.programmes.selectors import place_programmes_for_export

from .factories import full_programme, programme

pytestmark = pytest.mark.django_db

OFFICIAL_DIR = Path(settings.BASE_DIR).parent / "shared" / "data" / "standards" / "iati-2.03"
VENDORED_DIR = Path(__file__).resolve().parent.parent / "schemas" / "iati-2.03"
# The official files where the checkout has them, else the vendored copy (kept equal below).
OFFICIAL = (OFFICIAL_DIR if OFFICIAL_DIR.is_dir() else VENDORED_DIR) / "iati-activities-schema.xsd"


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(OFFICIAL)))


def assert_valid(schema, content):
    document = etree.fromstring(content)
    assert schema.validate(document), schema.error_log
    return document


def test_place_file_is_valid_and_complete(world, schema):
    data = full_programme(world.a)
    full_programme(world.b)  # never in place A's file
    with place_scope(world.a.place):
        content = iati.export_place(world.a.place)
    document = assert_valid(schema, content)
    activities = document.findall("iati-activity")
    assert len(activities) == 1
    activity = activities[0]
    p = data["programme"]
    assert activity.findtext("iati-identifier") == f"ZZ-LOCUS-{p.organisation_id}-alpha-{p.pk}"
    assert activity.find("reporting-org").get("ref") == f"ZZ-LOCUS-{p.organisation_id}"
    assert activity.find("activity-status").get("code") == "2"
    assert activity.find("budget/value").text == "10000"
    results = activity.findall("result")
    assert [r.get("type") for r in results] == ["1", "2"]  # output, outcome
    outcome = results[1].find("indicator")
    assert outcome.get("measure") == "2"
    assert outcome.find("baseline").get("value") == "50"
    period = outcome.find("period")
    assert period.find("period-start").get("iso-date") == "2026-01-01"
    assert period.find("target").get("value") == "70"
    assert period.find("actual").get("value") == "55"
    # The total, then one actual per breakdown group: its own figure, the group as dimension.
    total, female = results[0].findall("indicator/period/actual")
    assert total.get("value") == "40" and total.find("dimension") is None
    assert female.get("value") == "20"
    assert female.find("dimension").attrib == {"name": "gender", "value": "female"}
    assert "Betastad" not in content.decode()


def test_registered_identifier_and_languages(world, schema):
    p = programme(world.a, iati_org_ref="GB-CHC-1234567", status="completed")
    with place_scope(world.a.place):
        content = iati.export_place(world.a.place, language="sv")
    document = assert_valid(schema, content)
    activity = document.find("iati-activity")
    assert activity.findtext("iati-identifier") == f"GB-CHC-1234567-alpha-{p.pk}"
    assert activity.find("activity-status").get("code") == "4"
    tag = activity.find("tag/narrative")
    assert tag.text == "Samhällsengagemang" or tag.text  # the vocabulary's Swedish label


def test_text_with_markup_is_escaped(world, schema):
    programme(world.a, title='<script>alert("x")</script> & co')
    with place_scope(world.a.place):
        content = iati.export_place(world.a.place)
    document = assert_valid(schema, content)
    assert document.find("iati-activity/title/narrative").text.startswith("<script>")


def test_export_command_writes_a_valid_file(world, schema, tmp_path):
    full_programme(world.a)
    output = tmp_path / "alpha.xml"
    call_command("export_iati", place="alpha", output=str(output))
    assert_valid(schema, output.read_bytes())


def test_export_command_refuses_a_place_without_programmes(world, tmp_path):
    with pytest.raises(CommandError):
        call_command("export_iati", place="beta", output=str(tmp_path / "x.xml"))


def test_api_file_is_valid(world, client, schema):
    from locus.accounts.services import token_create

    full_programme(world.a)
    _token, secret = token_create(membership=world.a.memberships["coordinator"], name="t")
    response = client.get(
        "/api/v1/places/alpha/programmes/iati?language=de",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["activities"] == 1 and body["version"] == "2.03"
    assert_valid(schema, body["xml"].encode("utf-8"))
    with place_scope(world.a.place):
        assert len(place_programmes_for_export(world.a.place)) == 1


def test_any_text_makes_a_valid_file(world, schema):
    """Property: whatever text people type (control characters, emoji, markup), the file is
    valid IATI."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from locus.programmes import services

    from .factories import indicator, period

    p = programme(world.a)
    i = indicator(p, measure="number", level="output")
    q = period(p)

    # Forms refuse NUL (Django's ProhibitNullCharactersValidator; PostgreSQL cannot store it)
    # and cannot receive a lone surrogate (the body is decoded as UTF-8; the API refuses one).
    typed = st.characters(codec="utf-8", exclude_characters="\x00")

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(title=st.text(typed, min_size=1, max_size=40), comment=st.text(typed, max_size=40))
    def check(title, comment):
        with place_scope(world.a.place):
            p.title = title
            p.summary = comment
            p.save()
            i.title = title
            i.save()
            services.results_report(
                period=q, actor=None, values={i.pk: {"value": "3", "comment": comment}}
            )
            content = iati.export_place(world.a.place)
        assert_valid(schema, content)

    check()


@pytest.mark.skipif(
    not OFFICIAL_DIR.is_dir(), reason="the official schemas are not beside this checkout"
)
def test_vendored_schemas_are_the_official_ones():
    for official in OFFICIAL_DIR.iterdir():
        assert (VENDORED_DIR / official.name).read_bytes() == official.read_bytes(), official.name


def test_budget_periods_are_at_most_a_year_and_add_up(world, schema):
    """IATI: "the budget period must not be longer than one year". A three-year budget is
    three indicative budgets from the start date, shared by days, adding up to the total."""
    from datetime import date
    from decimal import Decimal

    periods = iati.budget_periods(date(2026, 4, 1), date(2029, 3, 31), Decimal("100000"))
    assert [(start.isoformat(), end.isoformat()) for start, end, _ in periods] == [
        ("2026-04-01", "2027-03-31"),
        ("2027-04-01", "2028-03-31"),
        ("2028-04-01", "2029-03-31"),
    ]
    assert sum(amount for *_, amount in periods) == Decimal("100000")
    assert all((end - start).days < 366 for start, end, _ in periods)
    assert iati.budget_periods(date(2028, 2, 29), date(2029, 6, 30), Decimal("10"))[0][1] == (
        date(2029, 2, 27)
    )
    programme(
        world.a, start_date=date(2026, 1, 1), end_date=date(2027, 6, 30), budget=Decimal("3000")
    )
    with place_scope(world.a.place):
        document = assert_valid(schema, iati.export_place(world.a.place))
    budgets = document.findall("iati-activity/budget")
    assert [b.find("period-end").get("iso-date") for b in budgets] == ["2026-12-31", "2027-06-30"]
    assert sum(Decimal(b.findtext("value")) for b in budgets) == Decimal("3000")


def test_actual_dates_are_never_in_the_future(world, schema):
    """An IATI rule: a programme marked completed before its planned end has no actual end."""
    from datetime import date

    programme(world.a, status="completed", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    with place_scope(world.a.place):
        early = iati.export_place(world.a.place, today=date(2026, 6, 1))
        late = iati.export_place(world.a.place, today=date(2027, 1, 1))

    def types(content):
        document = assert_valid(schema, content)
        return [d.get("type") for d in document.findall("iati-activity/activity-date")]

    assert types(early) == ["1", "2", "3"]
    assert types(late) == ["1", "2", "3", "4"]


def test_typed_text_keeps_the_places_language_whatever_the_file_is_asked_in(world, schema):
    """What people typed is in the place's language (the activity's xml:lang) in every download;
    only the labels Locus writes follow `language`, and say so."""
    full_programme(world.a)
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for language in ("en", "fr", "de", "sv"):
        with place_scope(world.a.place):
            document = assert_valid(schema, iati.export_place(world.a.place, language=language))
        activity = document.find("iati-activity")
        assert activity.get(lang) == world.a.place.default_language
        assert activity.find("result/indicator/title/narrative").get(lang) is None
        assert {n.get(lang) for n in activity.findall("tag/narrative")} == {language}
        assert activity.find("sector/narrative").get(lang) == "en"


def test_our_tag_codes_say_where_they_are_defined(world, schema, settings):
    """IATI: a tag of vocabulary 99 (the reporting organisation's own) gives the address of the
    vocabulary — the library vocabulary of the API, when the installation's address is known."""
    programme(world.a)
    settings.LOCUS_BASE_URL = "https://locus.city.example/"
    with place_scope(world.a.place):
        document = assert_valid(schema, iati.export_place(world.a.place))
    uris = {tag.get("vocabulary-uri") for tag in document.findall("iati-activity/tag")}
    assert uris == {"https://locus.city.example/api/v1/library/vocabulary"}
    settings.LOCUS_BASE_URL = ""
    with place_scope(world.a.place):
        document = assert_valid(schema, iati.export_place(world.a.place))
    assert all(tag.get("vocabulary-uri") is None for tag in document.findall("iati-activity/tag"))
