"""Validation against the official HSDS 3.1 JSON schemas, with `$ref`s resolved among the
schema files themselves (they refer to each other by file name, e.g. "phone.json")."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
BASE_URI = "https://locus.invalid/hsds-3.1/"


@cache
def registry(schema_dir: str = str(SCHEMA_DIR)) -> Registry:
    """Every schema file, registered under its file name (relative to BASE_URI)."""
    resources = []
    for path in sorted(Path(schema_dir).glob("*.json")):
        if path.name == "openapi.json":
            continue
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (
                BASE_URI + path.name,
                Resource.from_contents(contents, default_specification=DRAFT202012),
            )
        )
    return Registry().with_resources(resources)


@cache
def validator(name: str, schema_dir: str = str(SCHEMA_DIR)) -> Draft202012Validator:
    """A validator for one object type ("service", "organization"…), checking formats."""
    reg = registry(schema_dir)
    schema = reg.contents(BASE_URI + f"{name}.json")
    schema = {**schema, "$id": BASE_URI + f"{name}.json"}
    return Draft202012Validator(schema, registry=reg, format_checker=FormatChecker())


def errors(name: str, instance, schema_dir: str = str(SCHEMA_DIR)) -> list[str]:
    """Readable problems of `instance` against the `name` schema ([] when valid)."""
    problems = []
    for error in sorted(
        validator(name, schema_dir).iter_errors(instance), key=lambda e: list(e.absolute_path)
    ):
        where = ".".join(str(part) for part in error.absolute_path)
        message = error.message if len(error.message) < 200 else error.message[:197] + "…"
        problems.append(f"{where}: {message}" if where else message)
    return problems
