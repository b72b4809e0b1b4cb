"""Property-based tests of the HSDS parsers: whatever the input, they answer with rows and
problems (or refuse the file as a whole), never with a crash; and what Locus exports, Locus
reads back to the same fields."""

import contextlib
import csv
import io
import json
import uuid
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..hsds.export import service_object
from ..hsds.importer import ImportFailed, parse_csv_package, parse_json, parse_text
from ..vocabulary import vocabulary

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "name",
                    "status",
                    "organization_id",
                    "services",
                    "organization",
                    "contents",
                    "languages",
                    "phones",
                    "attributes",
                    "minimum_age",
                    "maximum_age",
                    "email",
                    "service_areas",
                    "schedules",
                    "description",
                    "organizations",
                    "code",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@FAST
@given(json_values)
def test_parse_json_never_crashes(value):
    try:
        parsed = parse_json(value)
    except ImportFailed:
        return
    for problem in parsed.problems:
        assert problem.row >= 1 and problem.reasons
    for row in parsed.services:
        assert row.fields["name"]


@FAST
@given(st.text(max_size=300))
def test_parse_text_never_crashes(text):
    with contextlib.suppress(ImportFailed):
        parse_text(text)


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@FAST
@given(st.lists(st.lists(cells, min_size=1, max_size=7), min_size=1, max_size=6))
def test_csv_rows_are_numbered_like_the_file(rows):
    header = ["id", "organization_id", "name", "status", "minimum_age", "maximum_age", "email"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    try:
        parsed = parse_csv_package({"services.csv": buffer.getvalue()})
    except ImportFailed:
        return
    numbered = sorted([p.row for p in parsed.problems] + [r.row for r in parsed.services])
    assert numbered == list(range(2, 2 + len(numbered)))
    assert len(numbered) <= len(rows)


words = vocabulary()
short_text = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
)


@FAST
@given(
    name=short_text,
    service_type=st.sampled_from(words.codes("service_type")),
    groups=st.lists(st.sampled_from(words.codes("target_group")), unique=True, max_size=4),
    languages=st.lists(st.sampled_from(words.codes("language")), unique=True, max_size=4),
    ages=st.tuples(st.none() | st.integers(0, 60), st.none() | st.integers(60, 120)),
    status=st.sampled_from(["active", "inactive", "temporarily closed", "defunct"]),
    cost=st.just("") | short_text,
    hours=st.just("") | short_text,
)
def test_a_service_exported_reads_back_the_same(
    name, service_type, groups, languages, ages, status, cost, hours
):
    organisation = SimpleNamespace(hsds_id=uuid.uuid4())
    service = SimpleNamespace(
        hsds_id=uuid.uuid4(),
        organisation=organisation,
        name=name,
        description="",
        url="",
        email="",
        status=status,
        how_to_refer="",
        eligibility="",
        cost=cost,
        min_age=ages[0],
        max_age=ages[1],
        last_checked_on=None,
        updated_at=None,
        phone="",
        opening_hours=hours,
        languages=languages,
        target_groups=groups,
        service_type=service_type,
        whole_place=True,
        area_list=[],
    )
    place = SimpleNamespace(name="Alphaville")
    exported = service_object(service, place)
    parsed = parse_json(json.loads(json.dumps({"services": [exported]})))
    assert parsed.problems == []
    fields = parsed.services[0].fields
    assert fields["name"] == name.strip()
    assert fields["service_type"] == service_type
    assert fields["target_groups"] == groups
    assert fields["languages"] == languages
    assert (fields["min_age"], fields["max_age"]) == ages
    assert fields["status"] == status
    assert fields["cost"] == cost and fields["opening_hours"] == hours
    assert parsed.services[0].area_names == ["Alphaville"]


area_ids = st.integers(1, 4)
fake_service = st.builds(
    lambda org, kind, groups, whole, areas, languages, ages: SimpleNamespace(
        organisation_id=org,
        organisation=f"org {org}",
        service_type=kind,
        target_groups=groups,
        whole_place=whole,
        area_list=[SimpleNamespace(pk=pk) for pk in sorted(set(areas))],
        languages=languages,
        min_age=ages[0],
        max_age=ages[1],
    ),
    st.integers(1, 5),
    st.sampled_from(["victim_support", "youth_work", "helpline"]),
    st.lists(
        st.sampled_from(["everyone", "young_people", "muslim_people"]), unique=True, max_size=2
    ),
    st.booleans(),
    st.lists(area_ids, max_size=3),
    st.lists(st.sampled_from(["en", "ar"]), unique=True, max_size=2),
    st.tuples(st.none() | st.integers(0, 20), st.none() | st.integers(20, 99)),
)


@FAST
@given(
    services=st.lists(fake_service, max_size=12),
    group=st.none() | st.sampled_from(["young_people", "muslim_people"]),
    language=st.none() | st.just("ar"),
    age=st.none() | st.integers(0, 99),
)
def test_coverage_agrees_with_a_brute_force_count(services, group, language, age):
    from ..selectors import _matches, coverage_of

    areas = [SimpleNamespace(pk=pk) for pk in range(1, 5)]
    types = [("victim_support", "V"), ("youth_work", "Y"), ("helpline", "H")]
    result = coverage_of(
        areas=areas, types=types, services=services, target_group=group, language=language, age=age
    )
    matching = [s for s in services if _matches(s, target_group=group, language=language, age=age)]
    gaps = overlaps = 0
    for area in areas:
        for code, _label in types:
            here = [
                s
                for s in matching
                if s.service_type == code
                and (s.whole_place or area.pk in {a.pk for a in s.area_list})
            ]
            cell = result.cell(area.pk, code)
            assert cell.count == len({s.organisation_id for s in here})
            assert cell.is_gap == (not here)
            by_group = {}
            for s in here:
                for g in s.target_groups or ["everyone"]:
                    if group and g not in (group, "everyone"):
                        continue
                    by_group.setdefault(g, set()).add(s.organisation_id)
            expected = sorted(g for g, orgs in by_group.items() if len(orgs) > 1)
            assert cell.overlap_groups == expected
            assert not (cell.is_gap and cell.is_overlap)
            gaps += cell.is_gap
            overlaps += cell.is_overlap
    assert (result.gaps, result.overlaps) == (gaps, overlaps)
    assert sum(result.totals.values()) == gaps


@pytest.mark.parametrize("age", ["inf", "-inf", "nan", "1e400"])
def test_an_age_that_is_not_a_number_is_a_row_problem(age):
    text = f"id,organization_id,name,minimum_age\ns1,o1,Helpline,{age}\n"
    try:
        parsed = parse_csv_package({"services.csv": text})
    except ImportFailed:
        return
    assert not parsed.services or parsed.services[0].fields.get("min_age") is None
