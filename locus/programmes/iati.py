"""The place's programmes as IATI 2.03 activities (docs/programmes.md).

One `<iati-activity>` per programme: identifier, reporting and participating organisations,
title, description, status, dates, country and areas, sector, tags from the library vocabulary,
budget, and one `<result>` per indicator (output or outcome) with its baseline and, per reporting
period, the target and the actual value with its breakdowns as `<dimension>`s. Valid against the
official schema (the tests validate every file they make).

Organisation identifiers: an organisation's own IATI identifier when the programme gives one
(e.g. GB-CHC-1234567); otherwise `ZZ-LOCUS-<organisation id>` — `ZZ` is a user-assigned ISO
3166 code that no registration agency uses, so the identifier is stable, clearly local, and
never mistaken for a registered one. Funders have no identifier in Locus: they are written by
name only, which IATI allows for participating organisations.
"""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from locus.library.vocabulary import label_in

from .choices import IndicatorLevel, Measure, ProgrammeStatus, ordered_breakdown

IATI_VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LOCAL_ORG_PREFIX = "ZZ-LOCUS"
# OECD DAC CRS purpose code: civilian peace-building, conflict prevention and resolution.
DAC_SECTOR = "15220"
TAG_VOCABULARY_REPORTER = "99"

ORGANISATION_TYPES = {  # directory OrganisationType → IATI OrganisationType
    "local_authority": "11",
    "police": "15",
    "cso": "22",
    "victim_support": "22",
    "school": "80",
    "health": "15",
    "faith_group": "22",
    "company": "70",
    "national_body": "15",
}
ACTIVITY_STATUS = {
    ProgrammeStatus.PLANNED: "1",
    ProgrammeStatus.ACTIVE: "2",
    ProgrammeStatus.FINISHING: "3",
    ProgrammeStatus.COMPLETED: "4",
    ProgrammeStatus.CANCELLED: "5",
}
RESULT_TYPE = {IndicatorLevel.OUTPUT: "1", IndicatorLevel.OUTCOME: "2"}
MEASURE = {Measure.NUMBER: "1", Measure.PERCENT: "2"}


# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text):
    return _NOT_XML.sub("", str(text))


def _vocabulary_uri():
    """Where our own tag codes are defined, as IATI asks of vocabulary 99 (reporting
    organisation): the library vocabulary of the API, public, when the installation's address
    is known."""
    base = (getattr(settings, "LOCUS_BASE_URL", "") or "").rstrip("/")
    return f"{base}/api/v1/library/vocabulary" if base.startswith(("http://", "https://")) else ""


def organisation_ref(programme):
    return _xml_text(programme.iati_org_ref) or f"{LOCAL_ORG_PREFIX}-{programme.organisation_id}"


def activity_identifier(programme):
    return f"{organisation_ref(programme)}-{programme.place.slug}-{programme.pk}"


def _narrative(parent, text, language=None):
    element = ET.SubElement(parent, "narrative")
    if language:
        element.set(XML_LANG, language)
    element.text = _xml_text(text)
    return element


def _text_element(parent, name, text, language=None):
    element = ET.SubElement(parent, name)
    _narrative(element, text, language)
    return element


def _number(value):
    value = Decimal(value)
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}"


def _disaggregated_actuals(period, result, areas):
    """One `<actual>` per breakdown group: its own figure as the value and the group as a
    `<dimension>` (name: the breakdown, value: the group), as IATI defines them — a dimension's
    value names the category (`sex` / `female`), never a figure."""
    for dimension, groups in ordered_breakdown(result.disaggregation, list(areas)):
        for group, value in groups:
            name = areas.get(group, group) if dimension == "area" else group
            actual = ET.SubElement(period, "actual", {"value": _number(value)})
            ET.SubElement(actual, "dimension", {"name": dimension, "value": _xml_text(name)})


def _indicator(parent, programme, indicator, areas):
    element = ET.SubElement(
        parent,
        "indicator",
        {
            "measure": MEASURE.get(indicator.measure, "1"),
            "ascending": "1" if indicator.ascending else "0",
        },
    )
    title = indicator.title + (f" ({indicator.unit})" if indicator.unit else "")
    _text_element(element, "title", title)
    if indicator.description:
        _text_element(element, "description", indicator.description)
    if indicator.bank_code:
        ET.SubElement(
            element,
            "reference",
            {"vocabulary": TAG_VOCABULARY_REPORTER, "code": _xml_text(indicator.bank_code)},
        )
    if indicator.baseline is not None:
        year = indicator.baseline_year or programme.start_date.year
        ET.SubElement(
            element, "baseline", {"year": str(year), "value": _number(indicator.baseline)}
        )
    for result in indicator.result_list:
        period = ET.SubElement(element, "period")
        ET.SubElement(period, "period-start", {"iso-date": result.period.start.isoformat()})
        ET.SubElement(period, "period-end", {"iso-date": result.period.end.isoformat()})
        ET.SubElement(period, "target", {"value": _number(indicator.target)})
        actual = ET.SubElement(period, "actual")
        if result.value is not None:
            actual.set("value", _number(result.value))
        if result.comment:
            _text_element(actual, "comment", result.comment)
        _disaggregated_actuals(period, result, areas)


def activity(programme, *, language="en", today=None):
    """One `<iati-activity>` element for a programme loaded by
    `selectors.place_programmes_for_export` (areas and indicators with their results).

    Languages: what people typed (titles, summaries, indicators, comments, names) is in the
    place's language, the activity's `xml:lang`, whatever language the file is asked in;
    `language` chooses only the labels Locus writes itself (the tags), which say so."""
    organisation = programme.organisation
    org_ref = organisation_ref(programme)
    today = today or timezone.localdate()
    attributes = {
        "last-updated-datetime": programme.updated_at.replace(microsecond=0).isoformat(),
        "default-currency": programme.currency,
        XML_LANG: programme.place.default_language,
    }
    element = ET.Element("iati-activity", attributes)
    ET.SubElement(element, "iati-identifier").text = activity_identifier(programme)
    reporting = ET.SubElement(
        element,
        "reporting-org",
        {"ref": org_ref, "type": ORGANISATION_TYPES.get(organisation.type, "90")},
    )
    _narrative(reporting, organisation.name)
    _text_element(element, "title", programme.title)
    description = ET.SubElement(element, "description", {"type": "1"})
    _narrative(description, programme.summary or programme.title)
    if programme.problem:
        objectives = ET.SubElement(element, "description", {"type": "2"})
        _narrative(objectives, programme.problem)
    for funder in programme.funder_list:
        funding = ET.SubElement(element, "participating-org", {"role": "1"})
        _narrative(funding, funder)
    implementing = ET.SubElement(
        element,
        "participating-org",
        {"role": "4", "ref": org_ref, "type": ORGANISATION_TYPES.get(organisation.type, "90")},
    )
    _narrative(implementing, organisation.name)
    ET.SubElement(element, "activity-status", {"code": ACTIVITY_STATUS[programme.status]})
    ET.SubElement(
        element, "activity-date", {"type": "1", "iso-date": programme.start_date.isoformat()}
    )
    # Actual dates are never in the future (an IATI rule): a programme marked completed
    # before its planned end has no actual end date Locus knows.
    if programme.status != ProgrammeStatus.PLANNED and programme.start_date <= today:
        ET.SubElement(
            element, "activity-date", {"type": "2", "iso-date": programme.start_date.isoformat()}
        )
    ET.SubElement(
        element, "activity-date", {"type": "3", "iso-date": programme.end_date.isoformat()}
    )
    if programme.status == ProgrammeStatus.COMPLETED and programme.end_date <= today:
        ET.SubElement(
            element, "activity-date", {"type": "4", "iso-date": programme.end_date.isoformat()}
        )
    ET.SubElement(element, "recipient-country", {"code": programme.place.country.upper()})
    areas = {str(area.pk): area.name for area in programme.areas.all()}
    for area_name in areas.values():
        location = ET.SubElement(element, "location")
        _text_element(location, "name", f"{area_name}, {programme.place.name}")
    sector = ET.SubElement(element, "sector", {"vocabulary": "1", "code": DAC_SECTOR})
    _narrative(sector, "Civilian peace-building, conflict prevention and resolution", "en")
    tags = [("intervention", programme.intervention)] + [
        ("target_group", code) for code in programme.target_groups
    ]
    vocabulary_uri = _vocabulary_uri()
    for axis, code in tags:
        attributes = {"vocabulary": TAG_VOCABULARY_REPORTER, "code": f"{axis}:{code}"}
        if vocabulary_uri:
            attributes["vocabulary-uri"] = vocabulary_uri
        tag = ET.SubElement(element, "tag", attributes)
        _narrative(tag, label_in(axis, code, language), language)
    if programme.budget is not None:
        for start, end, amount in budget_periods(
            programme.start_date, programme.end_date, programme.budget
        ):
            budget = ET.SubElement(element, "budget", {"type": "1", "status": "1"})
            ET.SubElement(budget, "period-start", {"iso-date": start.isoformat()})
            ET.SubElement(budget, "period-end", {"iso-date": end.isoformat()})
            value = ET.SubElement(
                budget, "value", {"currency": programme.currency, "value-date": start.isoformat()}
            )
            value.text = _number(amount)
    for indicator in programme.indicator_list:
        result = ET.SubElement(element, "result", {"type": RESULT_TYPE[indicator.level]})
        _text_element(result, "title", indicator.title)
        _indicator(result, programme, indicator, areas)
    return element


def _year_after(day):
    """The same day a year later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def budget_periods(start, end, total):
    """[(start, end, amount)]: the programme's budget over periods of at most a year (an IATI
    rule: "the budget period must not be longer than one year"), from its start date, each
    its share of the total by days (rounded to the cent; the last takes the remainder, so the
    amounts add up to the total). Indicative (status 1), as the one total was."""
    total = Decimal(total)
    periods = []
    while start <= end:
        last = min(_year_after(start) - timedelta(days=1), end)
        periods.append((start, last))
        start = last + timedelta(days=1)
    if not periods:  # an end before the start: services refuse it; nothing to say then
        return []
    days = (end - periods[0][0]).days + 1
    shares, given = [], Decimal(0)
    for index, (first, last) in enumerate(periods):
        if index == len(periods) - 1:
            amount = total - given
        else:
            amount = (total * ((last - first).days + 1) / days).quantize(Decimal("0.01"))
            given += amount
        shares.append((first, last, amount))
    return shares


def activities_xml(programmes, *, language="en", now=None, today=None):
    """The IATI activities file (bytes, UTF-8) of `programmes`."""
    now = now or timezone.now()
    root = ET.Element(
        "iati-activities",
        {
            "version": IATI_VERSION,
            "generated-datetime": now.replace(microsecond=0).isoformat(),
        },
    )
    for programme in programmes:
        root.append(activity(programme, language=language, today=today))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_place(place, *, language="en", programme_ids=None, today=None):
    """The IATI file of the place's programmes (all, or those of `programme_ids`)."""
    from .selectors import place_programmes_for_export

    return activities_xml(
        place_programmes_for_export(place, programme_ids), language=language, today=today
    )
