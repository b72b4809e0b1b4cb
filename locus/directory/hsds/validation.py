"""Validation against the official HSDS 3.1 JSON schemas, with `$ref`s resolved among the
schema files themselves (they refer to each other by file name, e.g. "phone.json")."""

import json
import re
from datetime import datetime
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


# jsonschema checks "uri" and "date-time" only with optional packages we do not install:
# without them those formats pass unchecked. The strict checker adds both (RFC 3986 absolute
# URI, RFC 3339 date-time) for what Locus writes; the import keeps the lenient one, since
# Locus's own rules check addresses and dates (and accept a web address with non-ASCII letters).
_URI_RE = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$"
)
_DATE_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _strict_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("uri")
    def is_uri(value):
        return not isinstance(value, str) or bool(_URI_RE.match(value))

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value):
        if not isinstance(value, str):
            return True
        if not _DATE_TIME_RE.match(value):
            return False
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    return checker


@cache
def validator(
    name: str, schema_dir: str = str(SCHEMA_DIR), strict: bool = False
) -> Draft202012Validator:
    """A validator for one object type ("service", "organization"…), checking formats; `strict`
    checks "uri" and "date-time" too."""
    reg = registry(schema_dir)
    schema = reg.contents(BASE_URI + f"{name}.json")
    schema = {**schema, "$id": BASE_URI + f"{name}.json"}
    checker = _strict_checker() if strict else FormatChecker()
    return Draft202012Validator(schema, registry=reg, format_checker=checker)


def errors(
    name: str, instance, schema_dir: str = str(SCHEMA_DIR), *, strict: bool = False
) -> list[str]:
    """Readable problems of `instance` against the `name` schema ([] when valid)."""
    problems = []
    for error in sorted(
        validator(name, schema_dir, strict).iter_errors(instance),
        key=lambda e: list(e.absolute_path),
    ):
        where = ".".join(str(part) for part in error.absolute_path)
        message = error.message if len(error.message) < 200 else error.message[:197] + "…"
        problems.append(f"{where}: {message}" if where else message)
    return problems
