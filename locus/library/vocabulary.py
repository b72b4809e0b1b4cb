"""The library's controlled vocabularies: versioned data, read through a small API.

The data lives in ``locus/library/vocabulary_data/v<N>.json`` (one file per version, each with
the day it takes effect, ``released``; the newest in force today is current), like the
reporting taxonomy. Every record stores the ``vocabulary_version`` it
was last saved with and plain codes, so an old record stays readable after a new version is
published. Codes are never reused with another meaning: each version is validated against the
ones before it. See ``docs/library.md``.

    from locus.library.vocabulary import vocabulary

    v = vocabulary()
    v.choices("topic", "fr")            # [(code, label)] for a form field
    v.label("country", "SE", "de")      # "Schweden"
    v.find("region", "SE Asia")         # "southeast_asia" (labels in any language, aliases)
    label_in("target_group", "researchers", "fr", record.vocabulary_version)
                                        # "Équipes de recherche": today's wording of the code
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from types import MappingProxyType

from django.utils import timezone

DATA_DIR = Path(__file__).resolve().parent / "vocabulary_data"
LANGUAGES = ("en", "fr", "de", "sv")
FALLBACK_LANGUAGE = "en"

# Record fields that hold codes of each axis (a record field is the axis's plural).
AXES = ("topic", "intervention", "target_group", "outcome", "method", "region", "country")
RECORD_FIELDS = {
    "topic": "topics",
    "intervention": "interventions",
    "target_group": "target_groups",
    "outcome": "outcomes",
    "method": "methods",
    "region": "regions",
    "country": "countries",
}

_CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2
_VERSION_RE = re.compile(r"^\d{4}\.\d+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FILE_RE = re.compile(r"^v([1-9]\d*)\.json$")
_TOP_KEYS = frozenset({"version", "released", "note", "axis_meta", "axes", "retired", "reworded"})
_VALUE_KEYS = frozenset({"code", "labels", "aliases"})


class VocabularyError(ValueError):
    """The vocabulary data breaks one or more rules; ``errors`` lists every problem found."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("invalid library vocabulary:\n- " + "\n- ".join(self.errors))


class UnknownVersion(LookupError):
    pass


class UnknownCode(KeyError):
    pass


def fold(text):
    """Lower case without accents or punctuation runs: how names are compared on import."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^\w]+", " ", plain.casefold()).strip()


def _language(language):
    base = (language or FALLBACK_LANGUAGE).split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else FALLBACK_LANGUAGE


# --------------------------------------------------------------------------------------------
# Validation


def validate_vocabulary(data, previous: Sequence[Mapping] = ()) -> None:
    """Check one version; ``previous`` are the older versions, oldest first. Raises
    ``VocabularyError`` listing every problem."""
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise VocabularyError(["the vocabulary must be a JSON object"])
    for key in sorted(set(data) - _TOP_KEYS):
        errors.append(f"unknown top-level key {key!r}")
    for key in ("version", "released", "axis_meta", "axes"):
        if key not in data:
            errors.append(f"missing top-level key {key!r}")
    if errors:
        raise VocabularyError(errors)
    if not isinstance(data["version"], str) or not _VERSION_RE.match(data["version"]):
        errors.append(f"version {data['version']!r} must look like '2026.1'")
    if _released(data) is None:
        errors.append(
            f"released {data['released']!r} must be the day the version takes effect, "
            "as '2026-12-01'"
        )
    meta, axes = data["axis_meta"], data["axes"]
    if not isinstance(meta, Mapping) or not isinstance(axes, Mapping):
        raise VocabularyError([*errors, "axis_meta and axes must be objects"])
    for name in sorted((set(axes) | set(meta)) - set(AXES)):
        errors.append(f"unknown axis {name!r}")
    for name in AXES:
        if name not in meta:
            errors.append(f"axis_meta: missing axis {name!r}")
        else:
            _check_labels(
                meta[name].get("labels") if isinstance(meta[name], Mapping) else None,
                f"axis_meta.{name}",
                errors,
            )
        if name not in axes:
            errors.append(f"missing axis {name!r}")
        else:
            _check_axis(name, axes[name], errors)
    _check_history(data, previous, errors)
    if errors:
        raise VocabularyError(errors)


def _released(data):
    """The `released` day of a version's data, or None when it is not a date."""
    text = data.get("released")
    if not isinstance(text, str) or not _DATE_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _check_labels(labels, where, errors):
    if not isinstance(labels, Mapping):
        errors.append(f"{where}: labels must be an object with {', '.join(LANGUAGES)}")
        return
    for language in LANGUAGES:
        text = labels.get(language)
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: label in {language!r} is missing or empty")
    for language in sorted(set(labels) - set(LANGUAGES)):
        errors.append(f"{where}: unknown language {language!r}")


def _check_axis(name, values, errors):
    if not isinstance(values, list) or not values:
        errors.append(f"axis {name!r} must be a non-empty list")
        return
    pattern = _COUNTRY_RE if name == "country" else _CODE_RE
    seen, folded = set(), {}
    for index, value in enumerate(values):
        where = f"{name}[{index}]"
        if not isinstance(value, Mapping):
            errors.append(f"{where} must be an object")
            continue
        for key in sorted(set(value) - _VALUE_KEYS):
            errors.append(f"{where}: unknown key {key!r}")
        code = value.get("code")
        if not isinstance(code, str) or not pattern.match(code):
            errors.append(f"{where}: code {code!r} is not valid for {name!r}")
            continue
        if code in seen:
            errors.append(f"{where}: duplicate code {code!r}")
        seen.add(code)
        _check_labels(value.get("labels"), f"{name}.{code}", errors)
        aliases = value.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            errors.append(f"{name}.{code}: aliases must be a list of names")
            aliases = []
        # A name (label in any language, or alias) may point to one code only: the importer
        # reads names back into codes.
        labels = value.get("labels") if isinstance(value.get("labels"), Mapping) else {}
        for text in [*labels.values(), *aliases, code]:
            key = fold(text)
            if key in folded and folded[key] != code:
                errors.append(f"{name}.{code}: the name {text!r} is also {folded[key]!r}")
            folded.setdefault(key, code)


def _codes(data):
    axes = data.get("axes", {}) if isinstance(data, Mapping) else {}
    return {
        name: {v["code"]: v for v in axes.get(name, []) if isinstance(v, Mapping) and "code" in v}
        for name in AXES
    }


def _check_history(data, previous, errors):
    """A code keeps its English label unless declared reworded, and a code that disappears is
    listed as retired — for ever, and it can never come back."""
    if not previous:
        return
    released = _released(data)
    for old in previous:
        before = _released(old)
        if released and before and released < before:
            errors.append(
                f"released {data['released']!r} is before {old.get('version')!r} "
                f"({old['released']}): a version cannot take effect before the one it follows"
            )
    current = _codes(data)
    retired = data.get("retired", {}) or {}
    reworded = data.get("reworded", {}) or {}
    ever_retired = {name: set() for name in AXES}
    for old in previous:
        for name, codes in (old.get("retired") or {}).items():
            ever_retired.setdefault(name, set()).update(codes)
    for name in AXES:
        for code in sorted(ever_retired.get(name, set()) - set(retired.get(name, []))):
            errors.append(f"{name}.{code}: retired earlier, must stay listed under 'retired'")
        for code in sorted(ever_retired.get(name, set()) & set(current[name])):
            errors.append(f"{name}.{code}: a retired code cannot come back")
    for old in previous:
        for name, values in _codes(old).items():
            for code, value in values.items():
                now = current[name].get(code)
                if now is None:
                    if code not in retired.get(name, []):
                        errors.append(f"{name}.{code}: removed without being listed as retired")
                    continue
                before = value.get("labels", {}).get("en")
                after = now.get("labels", {}).get("en")
                if before != after and code not in reworded.get(name, []):
                    errors.append(
                        f"{name}.{code}: English label changed ({before!r} → {after!r}); declare "
                        "it under 'reworded' if the meaning is the same, or use a new code"
                    )


# --------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class Term:
    code: str
    labels: Mapping[str, str]
    aliases: tuple[str, ...] = ()

    def label(self, language=None):
        return self.labels.get(_language(language)) or self.labels[FALLBACK_LANGUAGE]


class Vocabulary:
    def __init__(self, data):
        self.version = data["version"]
        self.released = date.fromisoformat(data["released"])  # the day it takes effect
        self._meta = {
            name: MappingProxyType(dict(data["axis_meta"][name]["labels"])) for name in AXES
        }
        self._axes = {
            name: tuple(
                Term(
                    code=value["code"],
                    labels=MappingProxyType(dict(value["labels"])),
                    aliases=tuple(value.get("aliases", ())),
                )
                for value in data["axes"][name]
            )
            for name in AXES
        }
        self._by_code = {name: {t.code: t for t in terms} for name, terms in self._axes.items()}
        self._by_name = {}
        for name, terms in self._axes.items():
            index = {}
            for term in terms:
                for text in (term.code, *term.labels.values(), *term.aliases):
                    index.setdefault(fold(text), term.code)
            self._by_name[name] = index

    def values(self, axis):
        return self._axes[axis]

    def codes(self, axis):
        return [term.code for term in self._axes[axis]]

    def has(self, axis, code):
        return code in self._by_code[axis]

    def get(self, axis, code):
        try:
            return self._by_code[axis][code]
        except KeyError:
            raise UnknownCode(f"{axis}.{code}") from None

    def label(self, axis, code, language=None):
        return self.get(axis, code).label(language)

    def axis_label(self, axis, language=None):
        labels = self._meta[axis]
        return labels.get(_language(language)) or labels[FALLBACK_LANGUAGE]

    def choices(self, axis, language=None):
        """(code, label) in the data's order; countries by name in the language."""
        pairs = [(term.code, term.label(language)) for term in self._axes[axis]]
        if axis == "country":
            pairs.sort(key=lambda pair: fold(pair[1]))
        return pairs

    def find(self, axis, text):
        """The code whose code, label (any language) or alias is `text`; None if none is.
        Labels of older versions are names too (a CSV written with 2026.1's wording still
        imports), after this version's own names."""
        return self._by_name[axis].get(fold(text))

    def _learn_older_names(self, older):
        """Read an older version's labels and aliases as names of the codes this version keeps
        (never displacing one of its own names)."""
        for name, terms in older._axes.items():
            index = self._by_name[name]
            for term in terms:
                if term.code not in self._by_code[name]:
                    continue
                for text in (*term.labels.values(), *term.aliases):
                    index.setdefault(fold(text), term.code)


def _read(path):
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@cache
def _versions():
    """Every version, validated against the ones before it, oldest first."""
    files = sorted(
        (int(match.group(1)), path)
        for path in DATA_DIR.glob("v*.json")
        if (match := _FILE_RE.match(path.name))
    )
    loaded, raw = {}, []
    for _number, path in files:
        data = _read(path)
        validate_vocabulary(data, previous=raw)
        raw.append(data)
        words = Vocabulary(data)
        for older in reversed(loaded.values()):
            words._learn_older_names(older)
        loaded[data["version"]] = words
    if not loaded:
        raise VocabularyError([f"no vocabulary file in {DATA_DIR}"])
    return loaded, raw[-1]["version"]  # and the newest file's version


def version_in_force(day) -> str:
    """The version a record saved on ``day`` (a date) gets: the newest one whose `released` day
    is on or before it, as the reporting taxonomy's ``version_in_force``. A day before the first
    `released` day counts as that day: the library is prepared (the demo, first imports) in the
    version it opens with. Of versions released the same day the newer wins: it replaced the
    older before that day (2026.2 and 2026.1, both dated the library's opening)."""
    versions = list(_versions()[0].values())  # oldest first, `released` never going back
    day = max(day, min(words.released for words in versions))
    return [words.version for words in versions if words.released <= day][-1]


def current_version():
    """The version in force today: the one forms, pages and new records use. A file dated
    later is loaded and validated (a record or the API may name it) but takes effect on its
    day."""
    return version_in_force(timezone.localdate())


def vocabulary(version=None) -> Vocabulary:
    """The vocabulary of `version` (default: the current one)."""
    versions = _versions()[0]
    try:
        return versions[version or current_version()]
    except KeyError:
        raise UnknownVersion(version) from None


def available_versions():
    """Every published version, oldest first."""
    return list(_versions()[0])


def label_in(axis, code, language, version=None):
    """The label to show for a code stored on a record saved with ``version``.

    The current version's label where the code still exists: codes never change meaning, so a
    newer label is a better wording of the same thing (2026.2 made the French and German labels
    inclusive, and an old record should not keep showing the old wording), as the reporting
    taxonomy's ``display_label``. A retired code is read in the record's own version, then in
    any older one; the code itself when no version knows it (never an error on a page)."""
    tried = []
    for candidate in (current_version(), version, *reversed(available_versions())):
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        try:
            return vocabulary(candidate).label(axis, code, language)
        except (UnknownCode, UnknownVersion):
            continue
    return code
