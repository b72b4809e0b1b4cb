"""OAI-PMH 2.0 at /oai: every verb, oai_dc, sets, dates, resumption tokens, deleted records and
every error code; each answer validated against the protocol's structure (oai_schemas/)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import signing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from locus.library import oai, services
from locus.library.choices import RecordStatus
from locus.library.models import Record

from .factories import make_record

pytestmark = pytest.mark.django_db

NS = {"o": oai.OAI_NS, "dc": oai.DC_NS, "oai_dc": oai.OAI_DC_NS}
SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "oai_schemas" / "oai_pmh.xsd")))


def harvest(client, **arguments):
    response = client.get("/oai", arguments)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    document = etree.fromstring(response.content)
    SCHEMA.assertValid(document)
    return document


def error_code(document):
    errors = document.findall("o:error", NS)
    return errors[0].get("code") if errors else None


def identifiers(document):
    return [element.text for element in document.iterfind(".//o:header/o:identifier", NS)]


def set_updated(record, moment):
    Record.objects.filter(pk=record.pk).update(updated_at=moment)


@pytest.fixture
def catalogue():
    evaluation = make_record(
        title="Shared Endeavour Fund: Call Three Evaluation Report",
        type="evaluation",
        summary="Pre/post evaluation of 30 projects in London.",
        authors=["Jonathan Hulse", "Jennie Williams"],
        publisher="Institute for Strategic Dialogue",
        year=2024,
        languages=["en"],
        countries=["GB"],
        localities=["London"],
        topics=["monitoring_evaluation"],
        licence="cc_by_4_0",
        url="https://example.org/sef-call-three",
        private_notes="SECRET editors' note",
        provenance="memory",
    )
    guide = make_record(
        title="Värna demokratin mot våldsbejakande extremism",
        type="guide",
        languages=["sv"],
        countries=["SE"],
        year=2016,
    )
    draft = make_record(title="Unpublished draft", status=RecordStatus.DRAFT)
    withdrawn = make_record(title="Withdrawn later", type="evaluation", countries=["FR"])
    services.record_set_status(record=withdrawn, status=RecordStatus.WITHDRAWN)
    return {"evaluation": evaluation, "guide": guide, "draft": draft, "withdrawn": withdrawn}


def test_identify(client, catalogue):
    document = harvest(client, verb="Identify")
    identify = document.find("o:Identify", NS)
    assert identify.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("o:baseURL", namespaces=NS) == "http://testserver/oai"
    assert identify.findtext("o:deletedRecord", namespaces=NS) == "transient"
    assert identify.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    request = document.find("o:request", NS)
    assert request.get("verb") == "Identify" and request.text == "http://testserver/oai"


def test_list_metadata_formats(client, catalogue):
    document = harvest(client, verb="ListMetadataFormats")
    assert document.findtext(".//o:metadataPrefix", namespaces=NS) == "oai_dc"
    one = oai.oai_identifier(catalogue["evaluation"].pk)
    assert error_code(harvest(client, verb="ListMetadataFormats", identifier=one)) is None
    gone = oai.oai_identifier(catalogue["withdrawn"].pk)
    assert error_code(harvest(client, verb="ListMetadataFormats", identifier=gone)) == (
        "noMetadataFormats"
    )
    draft = oai.oai_identifier(catalogue["draft"].pk)
    assert error_code(harvest(client, verb="ListMetadataFormats", identifier=draft)) == (
        "idDoesNotExist"
    )


def test_get_record_in_oai_dc_without_private_fields(client, catalogue):
    record = catalogue["evaluation"]
    response = client.get(
        "/oai",
        {
            "verb": "GetRecord",
            "identifier": oai.oai_identifier(record.pk),
            "metadataPrefix": "oai_dc",
        },
    )
    assert b"SECRET" not in response.content and b"memory" not in response.content
    document = etree.fromstring(response.content)
    SCHEMA.assertValid(document)
    dc = document.find(".//oai_dc:dc", NS)

    def values(name):
        return [element.text for element in dc.findall(f"dc:{name}", NS)]

    assert values("title") == ["Shared Endeavour Fund: Call Three Evaluation Report"]
    assert values("creator") == ["Jonathan Hulse", "Jennie Williams"]
    assert values("subject") == ["Monitoring and evaluation"]
    assert values("description") == ["Pre/post evaluation of 30 projects in London."]
    assert values("publisher") == ["Institute for Strategic Dialogue"]
    assert values("date") == ["2024"]
    assert values("type") == ["Text", "Evaluation"]
    assert values("identifier") == [
        f"http://testserver/library/{record.pk}/",
        "https://example.org/sef-call-three",
    ]
    assert values("language") == ["en"]
    assert values("coverage") == ["United Kingdom", "London"]
    assert values("rights") == ["CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"]
    header = document.find(".//o:header", NS)
    assert [spec.text for spec in header.findall("o:setSpec", NS)] == [
        "type:evaluation",
        "country:GB",
    ]


def test_withdrawn_records_are_deleted_and_drafts_never_appear(client, catalogue):
    document = harvest(client, verb="ListRecords", metadataPrefix="oai_dc")
    headers = {
        header.findtext("o:identifier", namespaces=NS): header.get("status")
        for header in document.iterfind(".//o:header", NS)
    }
    assert headers == {
        oai.oai_identifier(catalogue["evaluation"].pk): None,
        oai.oai_identifier(catalogue["guide"].pk): None,
        oai.oai_identifier(catalogue["withdrawn"].pk): "deleted",
    }
    deleted = document.xpath("//o:record[o:header/@status='deleted']", namespaces=NS)[0]
    assert deleted.find("o:metadata", NS) is None
    assert b"Unpublished draft" not in etree.tostring(document)
    response = client.get(
        "/oai",
        {
            "verb": "GetRecord",
            "identifier": oai.oai_identifier(catalogue["draft"].pk),
            "metadataPrefix": "oai_dc",
        },
    )
    assert error_code(etree.fromstring(response.content)) == "idDoesNotExist"
    # Published again: back as a full record.
    services.record_set_status(record=catalogue["withdrawn"], status=RecordStatus.PUBLISHED)
    document = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert not document.xpath("//o:header[@status]", namespaces=NS)


def test_sets(client, catalogue):
    document = harvest(client, verb="ListSets")
    specs = [element.text for element in document.iterfind(".//o:setSpec", NS)]
    assert {"type", "type:evaluation", "type:guide", "country", "country:GB", "country:SE"} <= set(
        specs
    )
    assert "country:FR" in specs  # the withdrawn record's country: a deleted item is in it
    evaluations = harvest(
        client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:evaluation"
    )
    assert set(identifiers(evaluations)) == {
        oai.oai_identifier(catalogue["evaluation"].pk),
        oai.oai_identifier(catalogue["withdrawn"].pk),
    }
    sweden = harvest(client, verb="ListRecords", metadataPrefix="oai_dc", set="country:SE")
    assert identifiers(sweden) == [oai.oai_identifier(catalogue["guide"].pk)]
    assert (
        len(
            identifiers(
                harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type")
            )
        )
        == 3
    )
    nothing = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="country:ZZ")
    assert error_code(nothing) == "noRecordsMatch"


def test_from_and_until_in_days_and_seconds(client, catalogue):
    set_updated(catalogue["evaluation"], datetime(2024, 3, 1, 10, 0, 0, 500_000, tzinfo=UTC))
    set_updated(catalogue["guide"], datetime(2024, 3, 2, 23, 59, 59, tzinfo=UTC))
    set_updated(catalogue["withdrawn"], datetime(2024, 3, 3, 0, 0, 0, tzinfo=UTC))
    ids = {name: oai.oai_identifier(catalogue[name].pk) for name in catalogue}

    def listed(**dates):
        document = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **dates)
        return set(identifiers(document)) if error_code(document) is None else error_code(document)

    assert listed(**{"from": "2024-03-02"}) == {ids["guide"], ids["withdrawn"]}
    assert listed(until="2024-03-02") == {ids["evaluation"], ids["guide"]}
    assert listed(**{"from": "2024-03-01T10:00:00Z", "until": "2024-03-01T10:00:00Z"}) == {
        ids["evaluation"]
    }
    assert listed(**{"from": "2024-03-02T23:59:59Z", "until": "2024-03-03T00:00:00Z"}) == {
        ids["guide"],
        ids["withdrawn"],
    }
    assert listed(**{"from": "2025-01-01"}) == "noRecordsMatch"
    assert listed(**{"from": "2024-03-02", "until": "2024-03-01"}) == "badArgument"
    assert listed(**{"from": "2024-03-02", "until": "2024-03-03T00:00:00Z"}) == "badArgument"
    assert listed(**{"from": "2024-13-45"}) == "badArgument"
    assert listed(**{"from": "2024-03-02T10:00:00+01:00"}) == "badArgument"
    assert listed(until="yesterday") == "badArgument"
    earliest = harvest(client, verb="Identify").findtext(".//o:earliestDatestamp", namespaces=NS)
    assert earliest == "2024-03-01T10:00:00Z"


def test_resumption_tokens_page_through_everything(client, settings):
    settings.LOCUS_OAI_PAGE_SIZE = 4
    records = [make_record(title=f"Record {number}") for number in range(10)]
    expected = {oai.oai_identifier(record.pk) for record in records}
    seen, cursors = [], []
    document = harvest(client, verb="ListRecords", metadataPrefix="oai_dc")
    while True:
        seen += identifiers(document)
        token = document.find(".//o:resumptionToken", NS)
        if token is None or not token.text:
            break
        assert token.get("completeListSize") == "10"
        cursors.append(token.get("cursor"))
        # A record changed during the harvest moves to the end: it is not lost.
        if len(cursors) == 1:
            services.record_update(record=records[0], data={"year": 2001})
        document = harvest(client, verb="ListRecords", resumptionToken=token.text)
        request = document.find("o:request", NS)
        assert request.get("resumptionToken") == token.text
    assert cursors == ["0", "4"]
    assert token is not None and token.get("cursor") == "8" and not token.text
    assert set(seen) == expected
    # Tokens belong to their verb and cannot be forged or kept forever.
    first = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = first.find(".//o:resumptionToken", NS).text
    assert error_code(harvest(client, verb="ListRecords", resumptionToken=token)) == (
        "badResumptionToken"
    )
    assert error_code(harvest(client, verb="ListIdentifiers", resumptionToken=token + "x")) == (
        "badResumptionToken"
    )
    settings.LOCUS_OAI_TOKEN_HOURS = -1
    assert error_code(harvest(client, verb="ListIdentifiers", resumptionToken=token)) == (
        "badResumptionToken"
    )
    forged = signing.dumps({"v": "ListIdentifiers"}, salt="another")
    assert error_code(harvest(client, verb="ListIdentifiers", resumptionToken=forged)) == (
        "badResumptionToken"
    )


def test_list_sets_pages_too(client, settings, catalogue):
    settings.LOCUS_OAI_PAGE_SIZE = 5
    document = harvest(client, verb="ListSets")
    token = document.find(".//o:resumptionToken", NS)
    specs = [element.text for element in document.iterfind(".//o:setSpec", NS)]
    while token is not None and token.text:
        document = harvest(client, verb="ListSets", resumptionToken=token.text)
        specs += [element.text for element in document.iterfind(".//o:setSpec", NS)]
        token = document.find(".//o:resumptionToken", NS)
    assert len(specs) == len(set(specs)) == len(oai.list_sets())


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Dance"}, "badVerb"),
        ({"verb": "Identify", "extra": "1"}, "badArgument"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        (
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:x.org:1"},
            "idDoesNotExist",
        ),
        ({"verb": "ListRecords", "resumptionToken": "nonsense"}, "badResumptionToken"),
        (
            {"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
            "badArgument",
        ),
        (
            {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2099-01-01"},
            "noRecordsMatch",
        ),
    ],
)
def test_error_codes(client, catalogue, arguments, code):
    document = harvest(client, **arguments)
    assert error_code(document) == code
    request = document.find("o:request", NS)
    if code in ("badVerb", "badArgument"):
        assert request.attrib == {}  # the protocol: no echo of a request that was wrong


def test_repeated_arguments_and_post_and_no_sets(client, catalogue, settings):
    response = client.get("/oai?verb=Identify&verb=Identify")
    assert error_code(etree.fromstring(response.content)) == "badArgument"
    response = client.post("/oai", {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    document = etree.fromstring(response.content)
    SCHEMA.assertValid(document)
    assert len(identifiers(document)) == 3
    settings.LOCUS_OAI_SETS = False
    assert error_code(harvest(client, verb="ListSets")) == "noSetHierarchy"
    assert (
        error_code(harvest(client, verb="ListRecords", metadataPrefix="oai_dc", set="type:guide"))
        == "noSetHierarchy"
    )


def test_query_count_does_not_grow_with_records(client, settings, django_assert_max_num_queries):
    settings.LOCUS_OAI_PAGE_SIZE = 50
    for number in range(3):
        make_record(title=f"Small {number}", countries=["GB"], topics=["gender"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/oai", {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    for number in range(20):
        make_record(title=f"More {number}", countries=["SE"], topics=["gender"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/oai", {"verb": "ListRecords", "metadataPrefix": "oai_dc"})


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from(
            ["verb", "metadataPrefix", "identifier", "from", "until", "set", "resumptionToken", "x"]
        ),
        st.text(max_size=30),
        max_size=5,
    )
)
def test_any_arguments_give_a_valid_answer(client, arguments):
    response = client.get("/oai", arguments)
    assert response.status_code == 200
    SCHEMA.assertValid(etree.fromstring(response.content))


def test_dates_parse_both_granularities():
    assert oai.parse_date("2024-01-31", end=True) == (datetime(2024, 2, 1, tzinfo=UTC), "day")
    assert oai.parse_date("2024-01-31T23:59:59Z", end=False)[0] == datetime(
        2024, 1, 31, 23, 59, 59, tzinfo=UTC
    )
    assert oai.datestamp(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(microseconds=5)) == (
        "2024-01-01T00:00:00Z"
    )


def test_an_identifier_whose_number_is_not_an_id_does_not_exist(client, db):
    """ "²" passes str.isdigit() but not int(): it used to answer 500."""
    for number in ("\u00b2", "1234567890123456789", "-1"):
        identifier = f"oai:{oai.repository_identifier()}:library/{number}"
        response = client.get(
            "/oai", {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": identifier}
        )
        assert response.status_code == 200
        assert error_code(etree.fromstring(response.content)) == "idDoesNotExist", number


@pytest.mark.parametrize(
    "arguments",
    [
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "bad set!"},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": ""},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "type::guide"},
        {"verb": "ListRecords", "metadataPrefix": ""},
        {"verb": "ListRecords", "metadataPrefix": "oai dc"},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "http://x.org/%zz"},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "not an identifier"},
        {"verb": "ListMetadataFormats", "identifier": ""},
    ],
)
def test_arguments_of_illegal_syntax_are_bad_arguments(client, catalogue, arguments):
    """OAI-PMH.xsd types the arguments the request element echoes (setSpec, metadataPrefix,
    identifier a URI): a value outside that syntax is badArgument ("values for arguments have
    an illegal syntax", §3.6) and is not echoed; it used to be noRecordsMatch,
    cannotDisseminateFormat or idDoesNotExist with the value echoed, an invalid answer."""
    document = harvest(client, **arguments)
    assert error_code(document) == "badArgument"
    assert document.find("o:request", NS).attrib == {}


def test_until_the_last_day_of_the_calendar_lists_everything(client, catalogue):
    """`until=9999-12-31` is the end of time (the day's end used to overflow: a 500)."""
    for until in ("9999-12-31", "9999-12-31T23:59:59Z"):
        document = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until=until)
        assert len(identifiers(document)) == 3, until
    assert oai.parse_date("9999-12-31", end=True)[0] == datetime.max.replace(tzinfo=UTC)


def test_admin_email_is_one_the_protocol_accepts(client, settings):
    """adminEmail needs a dotted domain (OAI-PMH.xsd): Django's default sender
    (webmaster@localhost) or a bare host gives way to library@<repository identifier>."""
    settings.LOCUS_OAI_ADMIN_EMAIL = ""
    settings.LOCUS_OAI_REPOSITORY_IDENTIFIER = ""
    settings.LOCUS_BASE_URL = "http://127.0.0.1:8000"
    settings.DEFAULT_FROM_EMAIL = "Locus <no-reply@localhost>"

    def admin():
        return harvest(client, verb="Identify").findtext(".//o:adminEmail", namespaces=NS)

    assert admin() == "library@locus.local"
    settings.LOCUS_BASE_URL = "https://locus.city.example"
    assert admin() == "library@locus.city.example"
    settings.DEFAULT_FROM_EMAIL = "Locus <no-reply@city.example>"
    assert admin() == "no-reply@city.example"
    settings.LOCUS_OAI_ADMIN_EMAIL = "oai@library.city.example"
    assert admin() == "oai@library.city.example"


_DAY = st.dates().map(lambda day: day.isoformat())
_SECOND = st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from(["from", "until"]),
        st.one_of(_DAY, _SECOND, st.sampled_from(["0001-01-01", "9999-12-31"])),
    )
)
def test_any_dates_give_a_valid_answer(client, dates):
    """Any calendar date or second, at either end of the calendar, is a valid answer: records,
    noRecordsMatch or badArgument (mixed granularities, `from` after `until`), never a 500."""
    response = client.get("/oai", {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", **dates})
    assert response.status_code == 200
    SCHEMA.assertValid(etree.fromstring(response.content))


def test_dublin_core_says_which_language_each_text_is_in(client, catalogue):
    """A Swedish title and summary are marked `xml:lang="sv"` (the record's first language), our
    labels `en`; a record in several languages (`mul`) leaves its own texts unmarked."""
    guide = catalogue["guide"]
    services.record_update(record=guide, data={"summary": "Ett betänkande om våldsbejakande…"})
    lang = f"{{{oai.XML_NS}}}lang"

    def dc(record):
        document = harvest(
            client,
            verb="GetRecord",
            identifier=oai.oai_identifier(record.pk),
            metadataPrefix="oai_dc",
        )
        return document.find(".//oai_dc:dc", NS)

    element = dc(guide)
    assert element.find("dc:title", NS).get(lang) == "sv"
    assert element.find("dc:title", NS).text == "Värna demokratin mot våldsbejakande extremism"
    assert element.find("dc:description", NS).get(lang) == "sv"
    assert {e.text: e.get(lang) for e in element.findall("dc:type", NS)} == {
        "Text": None,
        "Guide": "en",
    }
    assert element.find("dc:coverage", NS).get(lang) == "en"
    several = make_record(title="Handbook", languages=["mul", "en"])
    assert dc(several).find("dc:title", NS).get(lang) is None


def test_identify_declares_the_oai_identifier_format(client, settings):
    """Identifiers in the OAI identifier format are declared in Identify's description, with
    a sample (validated against the format's schema); a repository identifier that is not a
    domain name makes identifiers outside that format, so nothing is declared then."""
    settings.LOCUS_OAI_REPOSITORY_IDENTIFIER = "library.city.example"
    ns = {"id": oai.OAI_ID_NS, **NS}
    description = harvest(client, verb="Identify").find(".//o:description/id:oai-identifier", ns)
    assert description.findtext("id:repositoryIdentifier", namespaces=ns) == (
        "library.city.example"
    )
    assert description.findtext("id:sampleIdentifier", namespaces=ns) == (
        "oai:library.city.example:library/1"
    )
    settings.LOCUS_OAI_REPOSITORY_IDENTIFIER = "library"
    assert harvest(client, verb="Identify").find(".//o:description", NS) is None
