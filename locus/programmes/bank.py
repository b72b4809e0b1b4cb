"""The indicator bank: reusable measures with their source (data/indicator_bank.json).

A programme's indicator chosen from the bank keeps the measure's code, so reports can say where
the measure comes from, and the library record of an evaluation lists its outcomes.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .choices import IndicatorLevel, Measure

BANK_FILE = Path(__file__).resolve().parent / "data" / "indicator_bank.json"


@dataclass(frozen=True)
class BankMeasure:
    code: str
    level: str
    measure: str
    outcome: str  # a code of the library's outcome vocabulary, or ""
    title: str
    description: str
    source: str
    statement: str = ""  # the agree–disagree sentence a survey of this measure starts with


class BankError(ValueError):
    pass


def validate_bank(data):
    """Check the bank's data; raises BankError listing every problem."""
    from locus.library.vocabulary import vocabulary

    errors, seen = [], set()
    vocab = vocabulary()
    for index, item in enumerate(data.get("measures", [])):
        where = f"measures[{index}]"
        code = item.get("code", "")
        if not code or code in seen:
            errors.append(f"{where}: missing or repeated code {code!r}")
        seen.add(code)
        if item.get("level") not in IndicatorLevel.values:
            errors.append(f"{where}: unknown level")
        if item.get("measure") not in Measure.values:
            errors.append(f"{where}: unknown measure")
        if item.get("outcome") and not vocab.has("outcome", item["outcome"]):
            errors.append(f"{where}: unknown outcome {item['outcome']!r}")
        for key in ("title", "source"):
            if not str(item.get(key, "")).strip():
                errors.append(f"{where}: {key} is required")
    if errors:
        raise BankError("; ".join(errors))


@cache
def bank():
    data = json.loads(BANK_FILE.read_text(encoding="utf-8"))
    validate_bank(data)
    return tuple(
        BankMeasure(
            code=item["code"],
            level=item["level"],
            measure=item["measure"],
            outcome=item.get("outcome", ""),
            title=item["title"],
            description=item.get("description", ""),
            source=item["source"],
            statement=item.get("statement", ""),
        )
        for item in data["measures"]
    )


def bank_measure(code):
    return next((m for m in bank() if m.code == code), None)
