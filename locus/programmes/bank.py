"""The indicator bank: reusable measures with their source (data/indicator_bank.json).

A programme's indicator chosen from the bank keeps the measure's code, so reports can say where
the measure comes from, and the library record of an evaluation lists its outcomes.

Each measure is written in English with French, German and Swedish versions of its title,
description and survey statement (`i18n`); the source is a citation and stays as published.
`bank()` and `bank_measure()` give the text in the active language (or the one asked for),
falling back to English.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

from .choices import IndicatorLevel, Measure

BANK_FILE = Path(__file__).resolve().parent / "data" / "indicator_bank.json"
DEFAULT_LANGUAGE = "en"
TRANSLATIONS = ("fr", "de", "sv")  # every measure has all three
TRANSLATED_FIELDS = ("title", "description", "statement")


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
    language: str = DEFAULT_LANGUAGE  # the language of title, description and statement


class BankError(ValueError):
    pass


def _validate_i18n(item, where, errors):
    i18n = item.get("i18n")
    if not isinstance(i18n, dict):
        errors.append(f"{where}: i18n is required (fr, de, sv)")
        return
    for language in sorted(set(i18n) - set(TRANSLATIONS)):
        errors.append(f"{where}: i18n has an unknown language {language!r}")
    for language in TRANSLATIONS:
        text = i18n.get(language)
        if not isinstance(text, dict):
            errors.append(f"{where}: i18n.{language} is missing")
            continue
        for key in sorted(set(text) - set(TRANSLATED_FIELDS)):
            errors.append(f"{where}: i18n.{language}.{key} is not translated (keep it in English)")
        for key in TRANSLATED_FIELDS:
            english = str(item.get(key, "") or "").strip()
            translated = str(text.get(key, "") or "").strip()
            if english and not translated:
                errors.append(f"{where}: i18n.{language}.{key} is missing")
            elif translated and not english:
                errors.append(f"{where}: i18n.{language}.{key} has no English {key}")


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
        _validate_i18n(item, where, errors)
    if errors:
        raise BankError("; ".join(errors))


@cache
def _data():
    data = json.loads(BANK_FILE.read_text(encoding="utf-8"))
    validate_bank(data)
    return data


def bank_language(language=None):
    """The bank's language for a language code ("fr-ca" → "fr"); English when it has none."""
    code = (language or get_language() or DEFAULT_LANGUAGE).lower().replace("_", "-")
    code = code.split("-")[0]
    return code if code in TRANSLATIONS else DEFAULT_LANGUAGE


@cache
def _bank_in(language):
    measures = []
    for item in _data()["measures"]:
        text = item["i18n"].get(language, {}) if language != DEFAULT_LANGUAGE else {}
        measures.append(
            BankMeasure(
                code=item["code"],
                level=item["level"],
                measure=item["measure"],
                outcome=item.get("outcome", ""),
                title=text.get("title") or item["title"],
                description=text.get("description") or item.get("description", ""),
                source=item["source"],
                statement=text.get("statement") or item.get("statement", ""),
                language=language,
            )
        )
    return tuple(measures)


def bank(language=None):
    """Every measure, in `language` or the active language (English when not translated)."""
    return _bank_in(bank_language(language))


def bank_measure(code, language=None):
    return next((m for m in bank(language) if m.code == code), None)
