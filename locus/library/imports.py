"""Reading a resources CSV into record data, row by row, with every problem's line and column.
Nothing here writes: `services.records_import` decides what to save.

The format (docs/library.md) is the seed catalogue's — title, publisher, year, type, language,
region, url, notes — plus optional columns for everything a record holds. Lists inside a cell
are separated by ";" (links by "|").
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit, urlunsplit

from django.utils.translation import gettext as _

from locus.core.errors import ValidationFailed

from .choices import (
    EvidenceLevel,
    Licence,
    LinkKind,
    Provenance,
    RecordStatus,
    ResourceType,
    TrainingFormat,
    TrainingLevel,
)
from .models import YEAR_MIN, Record
from .vocabulary import RECORD_FIELDS as VOCABULARY_FIELDS
from .vocabulary import fold

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
REQUIRED_COLUMNS = ("title", "type")
# Column → the record field it fills (None: read specially).
COLUMNS = {
    "title": "title",
    "type": "type",
    "url": "url",
    "publisher": "publisher",
    "year": None,
    "language": "languages",
    "region": None,
    "notes": "private_notes",
    "summary": "summary",
    "authors": "authors",
    "countries": "countries",
    "regions": "regions",
    "localities": "localities",
    "topics": "topics",
    "interventions": "interventions",
    "target_groups": "target_groups",
    "outcomes": "outcomes",
    "methods": "methods",
    "evidence_level": "evidence_level",
    "licence": "licence",
    "status": "status",
    "training_duration": "training_duration",
    "training_format": "training_format",
    "training_level": "training_level",
    "links": None,
}
AXIS_OF_FIELD = {record_field: axis for axis, record_field in VOCABULARY_FIELDS.items()}

# The seed's types and the usual ways of writing ours.
TYPE_ALIASES = {
    "good practice": ResourceType.CASE_STUDY,
    "good-practice": ResourceType.CASE_STUDY,
    "practice": ResourceType.CASE_STUDY,
    "case study": ResourceType.CASE_STUDY,
    "case-study": ResourceType.CASE_STUDY,
    "framework": ResourceType.POLICY,
    "policy framework": ResourceType.POLICY,
    "policy/framework": ResourceType.POLICY,
    "policy-framework": ResourceType.POLICY,
    "data": ResourceType.DATASET,
    "data set": ResourceType.DATASET,
}
MULTIPLE_LANGUAGE_NAMES = {"multi", "mul", "multiple", "multilingual"}
# Provenance markers at the end of the seed's notes, strongest first.
PROVENANCE_MARKERS = (
    ("[U]", Provenance.UNCERTAIN),
    ("[M]", Provenance.MEMORY),
    ("[V]", Provenance.VERIFIED),
)
_YEAR_RE = re.compile(r"^(\d{4})(-)?$")
_SPLIT_RE = re.compile(r"\s*;\s*")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Words around region names that name no place ("… collections").
_FILLER_WORDS = {"collection", "collections"}


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str

    def as_dict(self):
        return {"line": self.line, "column": self.column, "message": self.message}

    def __str__(self):
        if not self.line:
            return self.message
        if self.column:
            return _("Line %(line)s, column %(column)s: %(message)s") % self.as_dict()
        return _("Line %(line)s: %(message)s") % self.as_dict()


class ImportRejected(ValidationFailed):
    """Nothing was imported; `problems` lists each one with its line and column."""

    code = "invalid_rows"

    def __init__(self, message, *, problems):
        self.problems = list(problems)
        super().__init__(message, fields={"file": [str(p) for p in self.problems[:200]]})


@dataclass(frozen=True)
class LinkRef:
    kind: str
    line: int | None = None  # a row of the same file
    record: object = None  # or a record already in the library


@dataclass
class Row:
    line: int
    data: dict
    keys: list
    links: list | None = None
    problems: list = field(default_factory=list)


@dataclass
class ImportPlan:
    rows: list = field(default_factory=list)
    file_problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def fatal(self):
        return bool(self.file_problems)

    @property
    def problems(self):
        return [*self.file_problems, *(p for row in self.rows for p in row.problems)]

    @property
    def valid_rows(self):
        return [row for row in self.rows if not row.problems]


# --------------------------------------------------------------------------------------------
# Keys


def normalise_url(url):
    """The form of a web address used to recognise a resource: no scheme, lower-case host, no
    default port, no fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    path = parts.path.rstrip("/")
    return urlunsplit(("", host, path, parts.query, ""))[2:]


def fold_title(title):
    return fold(title)


def row_keys(url, title, *, url_shared):
    """The key a row is recognised by, then older forms of it, most specific first.

    The web address, when the row has one that no other row of the file has; the address and
    the title when several rows share an address (a landing page of several documents); the
    title alone when there is no address.
    """
    title_key = "title:" + fold_title(title)
    if not url:
        return [title_key]
    url_key = "url:" + normalise_url(url)
    if url_shared:
        return [f"{url_key}#{title_key}", url_key, title_key]
    return [url_key, title_key]


def hash_key(key):
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Cells


def _split(cell):
    return [part for part in _SPLIT_RE.split(cell.strip()) if part] if cell.strip() else []


def _type(cell):
    value = cell.strip().lower()
    if value in ResourceType.values:
        return value
    if value in TYPE_ALIASES:
        return TYPE_ALIASES[value]
    for code, label in ResourceType.choices:
        if fold(label) == fold(value) or fold(code) == fold(value):
            return code
    return None


def _year(cell):
    """'2017' → (2017, False); '2014-' (since 2014, still updated) → (2014, True)."""
    match = _YEAR_RE.match(cell.strip())
    if not match:
        return None
    return int(match.group(1)), bool(match.group(2))


def _languages(cell):
    codes, unknown = [], []
    for part in _SPLIT_RE.split(cell.replace(",", ";").strip()):
        value = part.strip().lower()
        if not value:
            continue
        if value in MULTIPLE_LANGUAGE_NAMES:
            value = "mul"
        elif not re.match(r"^[a-z]{2}$", value):
            unknown.append(part)
            continue
        if value not in codes:
            codes.append(value)
    return codes, unknown


def _choice_code(cell, choices):
    """A TextChoices value from its code or its English label, loosely written."""
    key = re.sub(r"[^a-z0-9]", "", fold(cell))
    for code, label in choices.choices:
        if key in {re.sub(r"[^a-z0-9]", "", fold(code)), re.sub(r"[^a-z0-9]", "", fold(label))}:
            return code
    return None


def provenance_of(notes):
    """The weakest marker in the notes ([U] before [M] before [V]); '' when there is none."""
    for marker, provenance in PROVENANCE_MARKERS:
        if marker in notes:
            return provenance
    return ""


def _top_level_parts(text):
    """'UK (London); Europe' → [('UK', ['London']), ('Europe', [])]."""
    parts, depth, current, inner, inners = [], 0, [], [], []
    for char in text:
        if char == "(":
            depth += 1
            if depth == 1:
                inner = []
                continue
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                inners.append("".join(inner))
                continue
        if depth:
            inner.append(char)
        elif char in ";+/,":
            parts.append(("".join(current), inners))
            current, inners = [], []
        else:
            current.append(char)
    if depth:
        inners.append("".join(inner))
    parts.append(("".join(current), inners))
    return [(head.strip(), inner) for head, inner in parts if head.strip() or inner]


def _place_name(text, vocabulary):
    """('country', code) or ('region', code) for a name, else None."""
    words = [word for word in text.split() if word.lower() not in _FILLER_WORDS]
    name = " ".join(words)
    if not name:
        return None
    for axis in ("country", "region"):
        code = vocabulary.find(axis, name)
        if code:
            return axis, code
    return None


def parse_coverage(text, vocabulary):
    """The seed's `region` cell → countries, regions, cities and local areas, and the parts
    it could not read. "Europe (FR, DE, SE, UK)", "UK (London)", "Africa (8 countries)"."""
    found = {"country": [], "region": []}
    localities, unread = [], []

    def add(axis, code):
        if code not in found[axis]:
            found[axis].append(code)

    for head, inners in _top_level_parts(text or ""):
        matched = _place_name(head, vocabulary) if head else None
        if matched:
            add(*matched)
        elif head and not re.search(r"\d", head):
            unread.append(head)
        for inner in inners:
            for item in re.split(r"[;,]", inner):
                item = item.strip()
                if not item or re.search(r"\d", item):
                    continue  # "8 countries", "15 authorities": counts, not places
                inner_match = _place_name(item, vocabulary)
                if inner_match:
                    add(*inner_match)
                elif matched and matched[0] == "country":
                    if item not in localities:
                        localities.append(item)  # "UK (London)": a city of that country
                else:
                    unread.append(item)
    return found["country"], found["region"], localities, unread


# --------------------------------------------------------------------------------------------
# Rows


def _decode(raw):
    if isinstance(raw, str):
        return raw
    if len(raw) > MAX_BYTES:
        raise UnicodeError("too large")
    return raw.decode("utf-8-sig")


def read_resources(raw, *, vocabulary):
    """Read a whole file: an ImportPlan with each row's data and problems."""
    plan = ImportPlan()
    if not isinstance(raw, str) and len(raw) > MAX_BYTES:
        plan.file_problems.append(
            Problem(0, "", _("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 2**20})
        )
        return plan
    try:
        text = _decode(raw)
    except UnicodeError:
        plan.file_problems.append(Problem(0, "", _("The file is not UTF-8 text.")))
        return plan
    if "\x00" in text:
        plan.file_problems.append(Problem(0, "", _("The file is not a CSV text file.")))
        return plan
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        plan.file_problems.append(Problem(1, "", _("The file is empty.")))
        return plan
    except csv.Error as exc:
        plan.file_problems.append(Problem(1, "", _("Not a readable CSV: %(e)s") % {"e": exc}))
        return plan
    columns = [name.strip().lower() for name in header]
    for name in columns:
        if name and name not in COLUMNS:
            plan.file_problems.append(Problem(1, name, _("Unknown column.")))
        if columns.count(name) > 1 and name:
            plan.file_problems.append(Problem(1, name, _("This column appears twice.")))
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            plan.file_problems.append(Problem(1, name, _("This column is required.")))
    if plan.file_problems:
        return plan

    raw_rows = []
    try:
        line = reader.line_num + 1
        for cells in reader:
            if len(raw_rows) >= MAX_ROWS:
                plan.file_problems.append(
                    Problem(line, "", _("More than %(count)s rows.") % {"count": MAX_ROWS})
                )
                return plan
            if any(cell.strip() for cell in cells):
                raw_rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        plan.file_problems.append(Problem(line, "", _("Not a readable CSV: %(e)s") % {"e": exc}))
        return plan

    for line, cells in raw_rows:
        plan.rows.append(_read_row(line, columns, cells, vocabulary, plan.warnings))
    _assign_keys(plan)
    _resolve_links(plan)
    return plan


def _read_row(line, columns, cells, vocabulary, warnings):
    row = Row(line=line, data={}, keys=[])
    if len(cells) != len(columns):
        row.problems.append(
            Problem(
                line,
                "",
                _("This row has %(cells)s cells; the header has %(columns)s.")
                % {"cells": len(cells), "columns": len(columns)},
            )
        )
        return row
    values = {
        name: _CONTROL_RE.sub("", cell).strip()
        for name, cell in zip(columns, cells, strict=True)
        if name
    }

    def problem(column, message):
        row.problems.append(Problem(line, column, message))

    data = row.data
    data["title"] = values["title"]
    if not values["title"]:
        problem("title", _("A title is required."))
    kind = _type(values["type"])
    if kind is None:
        problem("type", _("Unknown type: %(value)s") % {"value": values["type"] or "—"})
    data["type"] = kind or ""
    for column in ("url", "publisher", "summary", "training_duration"):
        if column in values:
            data[COLUMNS[column]] = values[column]
    if "notes" in values:
        data["private_notes"] = values["notes"]
        data["provenance"] = provenance_of(values["notes"])
    if "authors" in values:
        data["authors"] = _split(values["authors"])
    if "localities" in values:
        data["localities"] = _split(values["localities"])
    if "year" in values:
        data["year"], data["is_ongoing"] = None, False
        if values["year"]:
            parsed = _year(values["year"])
            latest = date.today().year + 1
            if parsed is None:
                problem("year", _("Write a year (2021), or 2014- for a resource updated since."))
            elif not YEAR_MIN <= parsed[0] <= latest:
                problem(
                    "year",
                    _("Enter a year between %(first)s and %(last)s.")
                    % {"first": YEAR_MIN, "last": latest},
                )
            else:
                data["year"], data["is_ongoing"] = parsed
    if "language" in values:
        codes, unknown = _languages(values["language"])
        for part in unknown:
            problem("language", _("Unknown language code: %(code)s") % {"code": part})
        data["languages"] = codes
    if "region" in values:
        countries, regions, localities, unread = parse_coverage(values["region"], vocabulary)
        data["coverage"] = values["region"]
        if "localities" not in values:
            data["localities"] = localities
        if "countries" not in values:
            data["countries"] = countries
        if "regions" not in values:
            data["regions"] = regions
        for part in unread:
            warnings.append(
                Problem(
                    line,
                    "region",
                    _("“%(part)s” names no country or region Locus knows; kept as text only.")
                    % {"part": part},
                )
            )
    for column, record_field in COLUMNS.items():
        axis = AXIS_OF_FIELD.get(record_field)
        if axis is None or column not in values:
            continue
        codes = []
        for part in _split(values[column]):
            code = vocabulary.find(axis, part)
            if code is None:
                problem(column, _("Unknown value: %(value)s") % {"value": part})
            elif code not in codes:
                codes.append(code)
        data[record_field] = codes
    for column, choices in (
        ("evidence_level", EvidenceLevel),
        ("licence", Licence),
        ("status", RecordStatus),
        ("training_format", TrainingFormat),
        ("training_level", TrainingLevel),
    ):
        if column not in values:
            continue
        if not values[column]:
            data[column] = ""
            continue
        code = _choice_code(values[column], choices)
        if code is None:
            problem(column, _("Unknown value: %(value)s") % {"value": values[column]})
        data[column] = code or ""
    if "links" in values:
        row.links = values["links"]  # resolved once every row is read
    _check_record(row)
    return row


# The record field a service error names → the CSV column it came from.
_FIELD_COLUMNS = {
    "languages": "language",
    "private_notes": "notes",
    "coverage": "region",
    "is_ongoing": "year",
}


def _check_record(row):
    """The services' own checks (lengths, web address, training fields…), reported per column
    (once per column: a cell already reported is not reported again)."""
    from .services import clean_record_data

    try:
        clean_record_data(row.data)
    except ValidationFailed as exc:
        reported = {problem.column for problem in row.problems}
        for name, messages in exc.fields.items():
            column = _FIELD_COLUMNS.get(name, name)
            if column in reported:
                continue
            for message in messages:
                row.problems.append(Problem(row.line, column, message))


def _assign_keys(plan):
    urls = {}
    for row in plan.rows:
        url = row.data.get("url", "")
        if url:
            urls.setdefault(normalise_url(url), []).append(row.line)
    seen = {}
    for row in plan.rows:
        url = row.data.get("url", "")
        shared = bool(url) and len(urls[normalise_url(url)]) > 1
        row.keys = row_keys(url, row.data.get("title", ""), url_shared=shared)
        if row.problems:
            continue
        if row.keys[0] in seen:
            row.problems.append(
                Problem(
                    row.line,
                    "url" if url else "title",
                    _("Line %(line)s has the same web address and title: one resource, twice?")
                    % {"line": seen[row.keys[0]]},
                )
            )
        else:
            seen[row.keys[0]] = row.line


def _resolve_links(plan):
    """Each link names its target by web address or by exact title: a row of the file first,
    then a record already in the library."""
    by_url, by_title = {}, {}
    for row in plan.rows:
        if row.data.get("url"):
            by_url.setdefault(normalise_url(row.data["url"]), []).append(row.line)
        by_title.setdefault(fold_title(row.data.get("title", "")), []).append(row.line)
    for row in plan.rows:
        if row.links is None:
            continue
        cell, refs = row.links, []
        for entry in (part.strip() for part in cell.split("|")):
            if not entry:
                continue
            prefix, _sep, rest = entry.partition(":")
            if prefix.strip().lower().replace("-", "_") in LinkKind.values and rest.strip():
                kind, target = prefix.strip().lower().replace("-", "_"), rest.strip()
            else:
                kind, target = LinkKind.RELATED, entry
            if target.lower().startswith(("http://", "https://")):
                lines = by_url.get(normalise_url(target), [])
                existing = Record.objects.filter(url__iexact=target) if not lines else None
            else:
                lines = by_title.get(fold_title(target), [])
                existing = Record.objects.filter(title__iexact=target) if not lines else None
            if len(lines) == 1:
                refs.append(LinkRef(kind=kind, line=lines[0]))
                continue
            if len(lines) > 1:
                message = _("“%(target)s” matches several rows (%(lines)s); name it by title.")
                row.problems.append(
                    Problem(
                        row.line,
                        "links",
                        message % {"target": target, "lines": ", ".join(map(str, lines))},
                    )
                )
                continue
            matches = list(existing[:2])
            if len(matches) == 1:
                refs.append(LinkRef(kind=kind, record=matches[0]))
            else:
                row.problems.append(
                    Problem(
                        row.line,
                        "links",
                        _("No resource in the file or the library is “%(target)s”.")
                        % {"target": target},
                    )
                )
        if any(ref.line == row.line for ref in refs):
            row.problems.append(Problem(row.line, "links", _("A resource cannot link to itself.")))
        row.links = refs
