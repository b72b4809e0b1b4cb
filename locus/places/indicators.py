"""Reading an area-indicator CSV, row by row, with every problem's line, column and reason.
Nothing here writes: `indicator_services.indicators_import` decides what to save.

The format (docs/insights.md, "Context indicators"): one row per area, indicator and period,
with the columns

    area        the area's code or its name (as in the place's areas; case does not matter)
    indicator   what is measured, e.g. "Deprivation score" (at most 80 characters)
    value       a number: 12.5, or 12,5 with a decimal comma; a trailing % is dropped
    year | date the period: a year (2021), a month (2021-03) or a day (2021-03-21)

Columns may come in any order; `area_code` / `area_name` / `code` / `name` are read as `area`,
`period` as `year`. Other columns are ignored (and named in a warning). Separators: comma,
semicolon or tab (found from the header). UTF-8, with or without a byte-order mark.
"""

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
INDICATOR_MAX = 80
YEAR_MIN, YEAR_MAX = 1900, 2100

AREA_COLUMNS = ("area", "area_code", "area_name", "code", "name")
PERIOD_COLUMNS = ("year", "date", "period")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")


@dataclass(frozen=True)
class Problem:
    line: int  # the line of the file (the header is line 1); 0 for the file as a whole
    column: str
    reason: str

    def as_dict(self):
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class IndicatorRow:
    line: int
    area_id: int
    indicator: str
    period: str
    value: float


@dataclass
class Parsed:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    fatal: bool = False  # the file as a whole could not be read: nothing can be imported

    @property
    def bad_lines(self):
        return sorted({p.line for p in self.problems if p.line})


def _key(text):
    return " ".join(str(text).split()).casefold()


def _header_name(text):
    return _key(text).replace(" ", "_").replace("-", "_")


def parse_value(text):
    """A finite number from a cell, or raise ValueError with the reason."""
    cleaned = _SPACES.sub("", text or "")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
    if not cleaned:
        raise ValueError(_("A value is required."))
    if cleaned.count(",") and cleaned.count("."):
        raise ValueError(_("Write the number without thousands separators."))
    if cleaned.count(",") > 1 or cleaned.count(".") > 1 or not _NUMBER.match(cleaned):
        raise ValueError(_("Not a number."))
    number = float(cleaned.replace(",", "."))
    if not math.isfinite(number):
        raise ValueError(_("Not a number."))
    return number


def parse_period(text):
    """ "2021", "2021-03" or "2021-03-21" in canonical form, or raise ValueError."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValueError(_("A year or a date is required."))
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", cleaned)
    if match is None:
        raise ValueError(_("Write a year (2021), a month (2021-03) or a date (2021-03-21)."))
    year = int(match.group(1))
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError(
            _("The year must be between %(min)s and %(max)s.") % {"min": YEAR_MIN, "max": YEAR_MAX}
        )
    month, day = match.group(2), match.group(3)
    if month is None:
        return f"{year:04d}"
    try:
        when = date(year, int(month), int(day or 1))
    except ValueError:
        raise ValueError(_("This date does not exist.")) from None
    return f"{when:%Y-%m}" if day is None else when.isoformat()


def _decode(raw):
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise ValueError(_("The file is larger than 5 MB."))
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(_("The file is not UTF-8 text (save it as CSV UTF-8).")) from None
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: no file holds them, and no database stores them
        raise ValueError(_("The file is not UTF-8 text (save it as CSV UTF-8).")) from None
    if size > MAX_BYTES:
        raise ValueError(_("The file is larger than 5 MB."))
    return raw.removeprefix("\ufeff")


def _dialect(first_line):
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: (counts[sep], sep == ","))


def read_indicators(raw, *, areas):
    """Parse `raw` (bytes or text) against `areas` (the place's Area objects).

    Every row is checked on its own: an unknown area, an empty indicator, a value that is not a
    number, a period that is not a year or a date, and a second row for the same area,
    indicator and period each give a problem with the row's line. Never raises on bad input.
    """
    parsed = Parsed()
    try:
        text = _decode(raw)
    except ValueError as exc:
        parsed.problems.append(Problem(0, "", str(exc)))
        parsed.fatal = True
        return parsed
    if "\x00" in text:
        parsed.problems.append(Problem(0, "", _("The file is not a text file.")))
        parsed.fatal = True
        return parsed
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(first_line))
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    if not header or not any(cell.strip() for cell in header):
        parsed.problems.append(Problem(1, "", _("The file is empty or has no header row.")))
        parsed.fatal = True
        return parsed

    names = [_header_name(cell) for cell in header]
    columns = {}
    for role, candidates in (
        ("area", AREA_COLUMNS),
        ("indicator", ("indicator",)),
        ("value", ("value",)),
        ("period", PERIOD_COLUMNS),
    ):
        found = [i for i, name in enumerate(names) if name in candidates]
        if found:
            columns[role] = found[0]
    missing = [
        {"area": "area", "indicator": "indicator", "value": "value", "period": "year"}[role]
        for role in ("area", "indicator", "value", "period")
        if role not in columns
    ]
    if missing:
        parsed.problems.append(
            Problem(
                1,
                ", ".join(missing),
                _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)},
            )
        )
        parsed.fatal = True
        return parsed
    ignored = [header[i].strip() for i in range(len(names)) if i not in columns.values()]
    ignored = [name for name in ignored if name]
    if ignored:
        parsed.warnings.append(
            Problem(
                1,
                ", ".join(ignored),
                _("These columns are not read: %(columns)s.") % {"columns": ", ".join(ignored)},
            )
        )

    by_code = {_key(a.code): a for a in areas if a.code}
    by_name = {_key(a.name): a for a in areas}
    seen = {}
    count = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.problems.append(
                Problem(reader.line_num, "", _("Unreadable row: %(error)s") % {"error": exc})
            )
            parsed.fatal = True
            return parsed
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are allowed (spreadsheets leave them at the end)
        count += 1
        if count > MAX_ROWS:
            parsed.problems.append(
                Problem(line, "", _("More than %(max)s rows.") % {"max": f"{MAX_ROWS:,}"})
            )
            parsed.fatal = True
            return parsed
        row = _read_row(cells, columns, line, by_code, by_name, parsed.problems)
        if row is None:
            continue
        identity = (row.area_id, _key(row.indicator), row.period)
        if identity in seen:
            parsed.problems.append(
                Problem(
                    line,
                    "",
                    _("The same area, indicator and period as line %(line)s.")
                    % {"line": seen[identity]},
                )
            )
            continue
        seen[identity] = line
        parsed.rows.append(row)
    return parsed


def _cell(cells, index):
    return cells[index] if index < len(cells) else ""


def _read_row(cells, columns, line, by_code, by_name, problems):
    """One row, or None after adding its problems (every problem of the row, not only the
    first, so the person fixes the row once)."""
    found = []
    area_text = _cell(cells, columns["area"]).strip()
    area = by_code.get(_key(area_text)) or by_name.get(_key(area_text))
    if not area_text:
        found.append(Problem(line, "area", _("An area is required.")))
    elif area is None:
        found.append(
            Problem(
                line,
                "area",
                _("No area of this place has this code or name: %(area)s")
                % {"area": area_text[:80]},
            )
        )
    indicator = " ".join(_cell(cells, columns["indicator"]).split())
    if not indicator:
        found.append(Problem(line, "indicator", _("An indicator name is required.")))
    elif len(indicator) > INDICATOR_MAX:
        found.append(
            Problem(
                line,
                "indicator",
                _("Keep the indicator name under %(max)s characters.") % {"max": INDICATOR_MAX},
            )
        )
    elif any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in indicator):
        found.append(Problem(line, "indicator", _("Control characters are not allowed.")))
    value = period = None
    try:
        value = parse_value(_cell(cells, columns["value"]))
    except ValueError as exc:
        found.append(Problem(line, "value", str(exc)))
    try:
        period = parse_period(_cell(cells, columns["period"]))
    except ValueError as exc:
        found.append(Problem(line, "year", str(exc)))
    if found:
        problems.extend(found)
        return None
    return IndicatorRow(line=line, area_id=area.pk, indicator=indicator, period=period, value=value)
