"""Importing resources from CSV: the seed catalogue, idempotent re-runs keyed on the web
address, a row-level error report, all or nothing unless --skip-invalid, and private notes."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.library import services
from locus.library.choices import Provenance, RecordStatus, ResourceType, VersionSource
from locus.library.imports import ImportRejected, normalise_url, parse_coverage, read_resources
from locus.library.models import Record, RecordLink, RecordVersion
from locus.library.vocabulary import vocabulary

SEED = services.SEED_FILE
SHARED_SEED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "seed_resources.csv"
HEADER = "title,type,year,url,language,region,notes,topics,links\n"


def csv_bytes(*rows, header=HEADER):
    return (header + "".join(row + "\n" for row in rows)).encode()


def do_import(*rows, header=HEADER, **kwargs):
    return services.records_import(raw=csv_bytes(*rows, header=header), filename="t.csv", **kwargs)


# --- the seed catalogue ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_seed_catalogue_imports_completely():
    summary = services.library_load_demo()
    assert summary["created"] == 60
    assert summary["problems"] == []
    assert Record.objects.count() == 60
    assert not Record.objects.exclude(status=RecordStatus.PUBLISHED).exists()
    # "good-practice" rows are case studies; every type of the file is mapped.
    counts = {kind: Record.objects.filter(type=kind).count() for kind in ResourceType.values}
    assert counts == {
        "evaluation": 18,
        "guide": 16,
        "toolkit": 7,
        "template": 0,
        "training": 3,
        "case_study": 7,  # the file's "good-practice"
        "policy": 9,
        "dataset": 0,
    }
    # Two pairs of rows share a landing page; each row is its own record.
    shared = "https://rusieurope.eu/project/prevent"
    assert Record.objects.filter(url=shared).count() == 2
    swedish = Record.objects.get(title__startswith="Handledning och rekommendationer")
    assert (swedish.languages, swedish.countries, swedish.search_config) == (
        ["sv"],
        ["SE"],
        "swedish",
    )
    london = Record.objects.get(title="Shared Endeavour Fund Call Two Evaluation Report")
    assert (london.countries, london.localities, london.coverage) == (
        ["GB"],
        ["London"],
        "UK (London)",
    )
    assert london.evidence_level == "pre_post"
    ran = Record.objects.get(title="RAN Collection of Inspiring Practices (online collection)")
    assert (ran.year, ran.is_ongoing) == (2014, True)
    hedayah = Record.objects.get(title="Counter-Narrative Library")
    assert hedayah.languages == ["mul"]
    # The [V]/[M]/[U] markers become the (private) provenance; the weakest marker wins.
    mayors = Record.objects.get(title__startswith="A Guide for Mayors")
    assert mayors.provenance == Provenance.UNCERTAIN
    assert mayors.private_notes.endswith("year [U]")
    assert Record.objects.get(title__startswith="Counter-narratives for").provenance == "memory"
    assert RecordLink.objects.filter(source=mayors, kind="companion").count() == 1
    assert {warning["line"] for warning in summary["warnings"]} == {17, 54}


@pytest.mark.django_db
def test_re_importing_the_seed_changes_nothing():
    services.library_load_demo()
    versions = RecordVersion.objects.count()
    summary = services.library_load_demo()
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 60)
    assert summary["links_changed"] == 0
    assert Record.objects.count() == 60
    assert RecordVersion.objects.count() == versions


def test_the_seed_keeps_the_shared_files_columns_verbatim():
    if not SHARED_SEED.exists():
        pytest.skip(f"{SHARED_SEED} is absent: nothing to compare the project's copy with")
    with SHARED_SEED.open(encoding="utf-8", newline="") as handle:
        shared = list(csv.reader(handle))
    with SEED.open(encoding="utf-8", newline="") as handle:
        ours = list(csv.reader(handle))
    assert len(ours) == len(shared) == 61
    assert [row[: len(shared[0])] for row in ours] == shared


# --- idempotency -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_are_keyed_on_the_web_address():
    do_import("Old title,guide,2020,https://Example.org/guide/,en,,,gender,")
    record = Record.objects.get()
    summary = do_import("New title,guide,2021,http://example.org/guide,en,,,gender,")
    assert (summary["created"], summary["updated"]) == (0, 1)
    record.refresh_from_db()
    assert (record.title, record.year) == ("New title", 2021)
    version = record.versions.order_by("-number").first()
    assert version.source == VersionSource.IMPORT
    assert set(version.changed_fields) == {"title", "year", "url"}
    assert version.comment == "Imported from t.csv, line 2"


@pytest.mark.django_db
def test_a_row_without_address_is_keyed_on_its_title_until_it_gets_one():
    do_import("Untitled practice note,guide,2020,,en,,,,")
    record = Record.objects.get()
    summary = do_import("Untitled practice note,guide,2020,https://example.org/note,en,,,,")
    assert summary["updated"] == 1
    assert Record.objects.get().pk == record.pk
    summary = do_import("Untitled practice note,guide,2020,https://example.org/note,en,,,,")
    assert summary["unchanged"] == 1


@pytest.mark.django_db
def test_rows_sharing_an_address_are_told_apart_by_title():
    rows = (
        "Paper one,case_study,2018,https://example.org/landing,en,,,,",
        "Paper two,training,2018,https://example.org/landing,en,,,,",
    )
    assert do_import(*rows)["created"] == 2
    assert do_import(*rows)["unchanged"] == 2
    assert Record.objects.count() == 2


@pytest.mark.django_db
def test_columns_absent_from_the_file_are_left_as_they_are():
    do_import("Guide,guide,2020,https://example.org/g,en,,checked [V],gender,")
    record = Record.objects.get()
    services.record_set_status(record=record, status=RecordStatus.WITHDRAWN)
    do_import("Guide,guide", header="title,type\n")  # same title: found by its title key
    record.refresh_from_db()
    assert record.status == RecordStatus.WITHDRAWN  # no status column: an editor's choice stays
    assert record.topics == ["gender"]
    assert record.private_notes == "checked [V]"


# --- the error report ------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_problem_is_reported_with_its_line_and_column_and_nothing_is_imported():
    raw = (
        HEADER
        + 'Fine,guide,2020,https://example.org/a,en,,"a note\nover two lines [V]",gender,\n'
        + ",magazine,20x,notaurl,english,,,nope,\n"
        + "Too early,guide,1066,,en,,,,\n"
    ).encode()
    with pytest.raises(ImportRejected) as raised:
        services.records_import(raw=raw, filename="t.csv")
    found = {(p.line, p.column) for p in raised.value.problems}
    assert found == {
        (4, "title"),
        (4, "type"),
        (4, "year"),
        (4, "url"),
        (4, "language"),
        (4, "topics"),
        (5, "year"),
    }
    assert raised.value.code == "invalid_rows"
    assert "Line 4, column type: Unknown type: magazine" in raised.value.fields["file"]
    assert not Record.objects.exists()


@pytest.mark.django_db
def test_skip_invalid_imports_the_good_rows_and_lists_the_others():
    summary = do_import(
        "Good,guide,2020,https://example.org/good,en,,,,",
        "Bad,guide,2020,https://example.org/bad,en,,,not_a_topic,",
        skip_invalid=True,
    )
    assert (summary["created"], summary["skipped"]) == (1, 1)
    assert summary["problems"] == [
        {"line": 3, "column": "topics", "message": "Unknown value: not_a_topic"}
    ]
    assert list(Record.objects.values_list("title", flat=True)) == ["Good"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The file is empty."),
        (b"\xff\xfe t\x00i\x00", "The file is not UTF-8 text."),
        (b"title,kind\nA,guide\n", "This column is required."),
        (b"title,type,colour\nA,guide,red\n", "Unknown column."),
        (b"title,type,title\nA,guide,B\n", "This column appears twice."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_even_with_skip_invalid(raw, message):
    with pytest.raises(ImportRejected) as raised:
        services.records_import(raw=raw, skip_invalid=True)
    assert message in [p.message for p in raised.value.problems]


@pytest.mark.django_db
def test_the_same_resource_twice_in_one_file_is_an_error():
    problems = read_resources(
        csv_bytes(
            "Same,guide,2020,https://example.org/x,en,,,,",
            "Same,guide,2021,https://example.org/x/,en,,,,",
        ),
        vocabulary=vocabulary(),
    ).problems
    assert [(p.line, p.column) for p in problems] == [(3, "url")]
    with pytest.raises(ImportRejected):
        do_import("Same,guide,2020,,en,,,,", "same,guide,2021,,en,,,,")
    assert not Record.objects.exists()


@pytest.mark.django_db
def test_training_fields_only_on_training_rows():
    header = "title,type,training_format,training_level\n"
    with pytest.raises(ImportRejected) as raised:
        do_import("Course,training,online,advanced", "Guide,guide,online,", header=header)
    assert [(p.line, p.column) for p in raised.value.problems] == [(3, "training_format")]


# --- links -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_links_name_their_target_by_address_or_title():
    do_import(
        "Toolkit,toolkit,2020,https://example.org/toolkit,en,,,,",
        "Guide,guide,2020,,en,,,,part_of: https://example.org/toolkit | companion: Toolkit",
        "Report,evaluation,2020,,en,,,,Guide",
    )
    guide = Record.objects.get(title="Guide")
    assert set(guide.links_out.values_list("kind", "target__title")) == {
        ("part_of", "Toolkit"),
        ("companion", "Toolkit"),
    }
    assert list(Record.objects.get(title="Report").links_out.values_list("kind", flat=True)) == [
        "related"
    ]
    # A link to a record already in the library, from another file.
    do_import("Later,guide,2022,,en,,,,related: Toolkit")
    assert Record.objects.get(title="Later").links_out.get().target.title == "Toolkit"


@pytest.mark.django_db
def test_a_link_to_nothing_is_a_row_error():
    with pytest.raises(ImportRejected) as raised:
        do_import("Guide,guide,2020,,en,,,,related: Nowhere to be found")
    assert [(p.line, p.column) for p in raised.value.problems] == [(2, "links")]


# --- the command -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_imports_and_reports(tmp_path, capsys):
    call_command("import_resources", str(SEED))
    out = capsys.readouterr()
    assert "60 created, 0 updated, 0 unchanged, 0 skipped" in out.out
    assert "line 17, region" in out.err
    call_command("import_resources", str(SEED))
    assert "0 created, 0 updated, 60 unchanged" in capsys.readouterr().out


@pytest.mark.django_db
def test_command_fails_with_the_row_report(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("Good,guide,2020,,en,,,,", "Bad,poster,2020,,en,,,,"))
    with pytest.raises(CommandError, match="1 problem in the file, so nothing was imported"):
        call_command("import_resources", str(path))
    assert "Line 3, column type: Unknown type: poster" in capsys.readouterr().err
    assert not Record.objects.exists()
    call_command("import_resources", str(path), "--skip-invalid")
    assert Record.objects.get().title == "Good"
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_resources", str(tmp_path / "missing.csv"))


# --- reading cells ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "countries", "regions", "localities", "unread"),
    [
        ("Europe (FR, DE, SE, UK)", ["FR", "DE", "SE", "GB"], ["europe"], [], []),
        ("UK (London)", ["GB"], [], ["London"], []),
        ("Africa (8 countries)", [], ["africa"], [], []),
        ("Europe (15 authorities, 9 countries)", [], ["europe"], [], []),
        (
            "East Africa; West Africa; Indonesia; Uganda",
            ["ID", "UG"],
            ["east_africa", "west_africa"],
            [],
            [],
        ),
        (
            "Global (SE Asia, MENA, East Africa collections)",
            [],
            ["global", "southeast_asia", "mena", "east_africa"],
            [],
            [],
        ),
        ("UK / global", ["GB"], ["global"], [], []),
        ("EU + priority third countries", [], ["eu"], [], ["priority third countries"]),
        ("Democratic countries", [], [], [], ["Democratic countries"]),
        ("Sverige", ["SE"], [], [], []),
        ("", [], [], [], []),
    ],
)
def test_coverage_is_read_into_countries_regions_and_places(
    text, countries, regions, localities, unread
):
    assert parse_coverage(text, vocabulary()) == (countries, regions, localities, unread)


@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_coverage_parsing_never_fails_and_yields_known_codes(text):
    current = vocabulary()
    countries, regions, localities, unread = parse_coverage(text, current)
    assert all(current.has("country", code) for code in countries)
    assert all(current.has("region", code) for code in regions)
    assert all(isinstance(name, str) and name for name in localities + unread)


@pytest.mark.django_db
@given(st.lists(st.lists(st.text(max_size=12), min_size=9, max_size=9), max_size=4))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_rows_are_read_without_error(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER.strip().split(","))
    writer.writerows(rows)
    plan = read_resources(out.getvalue().encode(), vocabulary=vocabulary())
    for problem in plan.problems:
        assert problem.line >= 0 and problem.message  # 0: the file as a whole


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://www.Example.org/a/b/", "example.org/a/b"),
        ("http://example.org/a/b#part", "example.org/a/b"),
        ("https://example.org/a?x=1", "example.org/a?x=1"),
    ],
)
def test_web_addresses_are_compared_in_a_normal_form(url, normal):
    assert normalise_url(url) == normal


@pytest.mark.django_db
def test_a_file_naming_values_in_an_older_versions_wording_still_imports():
    """2026.2 reworded French and German labels; a CSV written with 2026.1's still reads."""
    header = "title,type,target_groups,interventions\n"
    row = "Guide,guide,Chercheurs;Politische Entscheidungsträger,Participation des habitants"
    summary = do_import(row, header=header)
    assert summary["problems"] == [] and summary["created"] == 1
    record = Record.objects.get()
    assert record.target_groups == ["researchers", "policy_makers"]
    assert record.interventions == ["community_engagement"]
    assert record.vocabulary_version == vocabulary().version == "2026.2"
