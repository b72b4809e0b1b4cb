"""The cross-country taxonomy of reports: versioned data, read through a small API.

The data lives in ``locus/reporting/taxonomy_data/v<N>.json`` (one file per version; the highest N
is current). Every file is validated when it is first loaded, and then cached. A record stores
the ``taxonomy_version`` it was made with and plain value codes; ``taxonomy(version)`` gives
back the exact vocabulary that record was written in, so old records stay readable after a new
version is published. Codes are never reused with another meaning: the validator compares each
version with the ones before it. See ``docs/taxonomy.md``.

    from locus.reporting.taxonomy import taxonomy

    t = taxonomy()                                   # the current version
    t.choices("bias", "sv", reporter=True)           # for a form field
    t.map_bias(["anti_roma_sinti"], "de_pmk")        # {"antiziganistisch", "rassismus", ...}
    t.counts_as_hate("terrorist_extremist_content", ["not_sure"])   # False
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

DATA_DIR = Path(__file__).resolve().parent / "taxonomy_data"
LANGUAGES = ("en", "fr", "de", "sv")
FALLBACK_LANGUAGE = "en"

AXES = (
    "bias",
    "incident_type",
    "ideology",
    "setting",
    "legal_status",
    "already_reported",
    "platform",
)
# Axes that are never shown to a reporter, whatever a value says.
STAFF_ONLY_AXES = frozenset({"ideology"})
# Axes whose reporter-facing values need help text a resident understands.
DESCRIBED_AXES = frozenset({"bias", "incident_type", "setting"})
# Where the routing module may look first; the routing rules of each place decide.
ROUTE_HINTS = frozenset(
    {"police", "equality_body", "platform", "ct_referral_unit", "community_safety"}
)

# Keys a value may carry on each axis (beyond the common ones), and those it must carry.
_COMMON_KEYS = frozenset({"code", "labels", "description", "parent", "reporter_visible"})
_AXIS_KEYS = {
    "bias": frozenset({"mappings", "unspecified"}),
    "incident_type": frozenset(
        {"counts_as_hate", "hate_if_bias", "requires_bias", "online", "route_hint"}
    ),
    "ideology": frozenset(),
    "setting": frozenset({"online", "asks_platform"}),
    "legal_status": frozenset(),
    "already_reported": frozenset({"asks_reference"}),
    "platform": frozenset({"domains"}),
}
_REQUIRED_FLAGS = {
    "bias": ("mappings",),
    "incident_type": ("counts_as_hate", "hate_if_bias", "requires_bias", "online"),
    "setting": ("online",),
    "already_reported": ("asks_reference",),
}
_BOOLEAN_KEYS = frozenset(
    {
        "reporter_visible",
        "unspecified",
        "counts_as_hate",
        "hate_if_bias",
        "requires_bias",
        "online",
        "asks_platform",
        "asks_reference",
    }
)
_TOP_KEYS = frozenset(
    {"version", "released", "sources", "schemes", "axis_meta", "axes", "retired", "reworded"}
)
_REQUIRED_TOP_KEYS = ("version", "sources", "schemes", "axis_meta", "axes")
_SCHEME_KEYS = frozenset({"labels", "sources", "values"})
_SCHEME_VALUE_KEYS = frozenset({"code", "labels", "parent", "source_label", "note"})
_AXIS_META_KEYS = frozenset({"labels", "multiple", "staff_only"})
_SOURCE_KEYS = frozenset({"id", "publisher", "title", "url", "used_for"})

_CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_VERSION_RE = re.compile(r"^\d{4}\.\d+$")
_FILE_RE = re.compile(r"^v([1-9]\d*)\.json$")
_DOMAIN_RE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")

# Sub-values are shown under their parent, indented with an em space: whitespace that HTML
# keeps and screen readers do not announce.
INDENT = "\u2003"


class TaxonomyError(ValueError):
    """The taxonomy data breaks one or more rules; ``errors`` lists every problem found."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("invalid taxonomy:\n- " + "\n- ".join(self.errors))


class UnknownVersion(LookupError):
    pass


class UnknownCode(KeyError):
    pass


class UnknownScheme(KeyError):
    pass


# --------------------------------------------------------------------------------------------
# Validation


def validate_taxonomy(data, previous: Sequence[Mapping] = ()) -> None:
    """Check one version of the taxonomy; ``previous`` are the older versions, oldest first.

    Raises ``TaxonomyError`` listing every problem; returns None when the data is sound.
    """
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise TaxonomyError(["the taxonomy must be a JSON object"])
    for key in sorted(set(data) - _TOP_KEYS):
        errors.append(f"unknown top-level key {key!r}")
    for key in _REQUIRED_TOP_KEYS:
        if key not in data:
            errors.append(f"missing top-level key {key!r}")
    if errors:
        raise TaxonomyError(errors)

    version = data["version"]
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        errors.append(f"version {version!r} must look like '2026.1'")
    source_ids = _check_sources(data["sources"], errors)
    schemes = _check_schemes(data["schemes"], source_ids, errors)
    _check_axis_meta(data["axis_meta"], errors)
    axes = data["axes"]
    if not isinstance(axes, Mapping):
        errors.append("axes must be an object")
    else:
        for name in sorted(set(axes) - set(AXES)):
            errors.append(f"unknown axis {name!r}")
        for name in AXES:
            if name not in axes:
                errors.append(f"missing axis {name!r}")
            else:
                _check_axis(name, axes[name], data["axis_meta"], schemes, errors)
    _check_history(data, previous, errors)
    if errors:
        raise TaxonomyError(errors)


def _check_labels(labels, where, errors, *, what="labels"):
    if not isinstance(labels, Mapping):
        errors.append(f"{where}: {what} must be an object with {', '.join(LANGUAGES)}")
        return
    for language in LANGUAGES:
        text = labels.get(language)
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: {what} in {language!r} is missing or empty")
    for language in labels:
        if language not in LANGUAGES and not re.match(r"^[a-z]{2,3}$", str(language)):
            errors.append(f"{where}: {what} has an unknown language key {language!r}")


def _check_code(code, where, errors):
    if not isinstance(code, str) or not _CODE_RE.match(code):
        errors.append(f"{where}: code {code!r} must be snake_case")
        return False
    return True


def _check_sources(sources, errors):
    ids = set()
    if not isinstance(sources, list) or not sources:
        errors.append("sources must be a non-empty list")
        return ids
    for index, source in enumerate(sources):
        where = f"sources[{index}]"
        if not isinstance(source, Mapping):
            errors.append(f"{where} must be an object")
            continue
        for key in sorted(set(source) - _SOURCE_KEYS):
            errors.append(f"{where}: unknown key {key!r}")
        for key in ("id", "publisher", "title", "url"):
            if not isinstance(source.get(key), str) or not source[key].strip():
                errors.append(f"{where}: {key} is missing or empty")
        url = source.get("url")
        if isinstance(url, str) and not re.match(r"^https?://\S+$", url):
            errors.append(f"{where}: url {url!r} is not a web address")
        if source.get("id") in ids:
            errors.append(f"{where}: duplicate source id {source['id']!r}")
        ids.add(source.get("id"))
    return ids


def _check_tree(values, key_of_parent, where, errors):
    """Parents exist and there are no cycles. Returns {code: parent}."""
    parents = {v["code"]: v.get(key_of_parent) for v in values}
    for code, parent in parents.items():
        if parent is None:
            continue
        if parent not in parents:
            errors.append(f"{where}.{code}: parent {parent!r} does not exist")
            continue
        seen = {code}
        while parent is not None and parent in parents:
            if parent in seen:
                errors.append(f"{where}.{code}: parents form a cycle")
                break
            seen.add(parent)
            parent = parents[parent]
    return parents


def _unique_codes(values, where, errors):
    """Keep the well-formed values of a list, reporting bad and duplicate codes."""
    good, seen = [], set()
    if not isinstance(values, list) or not values:
        errors.append(f"{where} must be a non-empty list")
        return good
    for index, value in enumerate(values):
        if not isinstance(value, Mapping):
            errors.append(f"{where}[{index}] must be an object")
            continue
        if not _check_code(value.get("code"), f"{where}[{index}]", errors):
            continue
        if value["code"] in seen:
            errors.append(f"{where}: duplicate code {value['code']!r}")
            continue
        seen.add(value["code"])
        good.append(value)
    return good


def _check_schemes(schemes, source_ids, errors):
    """Returns {scheme: set of declared codes} for the well-formed schemes."""
    declared: dict[str, set[str]] = {}
    if not isinstance(schemes, Mapping) or not schemes:
        errors.append("schemes must be a non-empty object")
        return declared
    for name, scheme in schemes.items():
        where = f"schemes.{name}"
        if not _check_code(name, where, errors):
            continue
        if not isinstance(scheme, Mapping):
            errors.append(f"{where} must be an object")
            continue
        for key in sorted(set(scheme) - _SCHEME_KEYS):
            errors.append(f"{where}: unknown key {key!r}")
        _check_labels(scheme.get("labels"), where, errors)
        for ref in scheme.get("sources", []):
            if ref not in source_ids:
                errors.append(f"{where}: source {ref!r} is not in the sources list")
        values = _unique_codes(scheme.get("values"), f"{where}.values", errors)
        for value in values:
            vwhere = f"{where}.{value['code']}"
            for key in sorted(set(value) - _SCHEME_VALUE_KEYS):
                errors.append(f"{vwhere}: unknown key {key!r}")
            _check_labels(value.get("labels"), vwhere, errors)
            if not isinstance(value.get("source_label"), str) or not value["source_label"]:
                errors.append(f"{vwhere}: source_label (the term the source uses) is missing")
        _check_tree(values, "parent", where, errors)
        declared[name] = {v["code"] for v in values}
    return declared


def _check_axis_meta(meta, errors):
    if not isinstance(meta, Mapping):
        errors.append("axis_meta must be an object")
        return
    for name in AXES:
        where = f"axis_meta.{name}"
        info = meta.get(name)
        if not isinstance(info, Mapping):
            errors.append(f"{where} is missing")
            continue
        for key in sorted(set(info) - _AXIS_META_KEYS):
            errors.append(f"{where}: unknown key {key!r}")
        _check_labels(info.get("labels"), where, errors)
        if not isinstance(info.get("multiple"), bool):
            errors.append(f"{where}: multiple must be true or false")
        if not isinstance(info.get("staff_only", False), bool):
            errors.append(f"{where}: staff_only must be true or false")
        if name in STAFF_ONLY_AXES and info.get("staff_only") is not True:
            errors.append(f"{where}: this axis is staff-only and must say so")
    for name in sorted(set(meta) - set(AXES)):
        errors.append(f"axis_meta: unknown axis {name!r}")


def _check_axis(name, values, axis_meta, schemes, errors):
    where = f"axes.{name}"
    values = _unique_codes(values, where, errors)
    allowed = _COMMON_KEYS | _AXIS_KEYS[name]
    staff_only = name in STAFF_ONLY_AXES or bool(
        isinstance(axis_meta, Mapping)
        and isinstance(axis_meta.get(name), Mapping)
        and axis_meta[name].get("staff_only")
    )
    for value in values:
        vwhere = f"{where}.{value['code']}"
        for key in sorted(set(value) - allowed):
            errors.append(f"{vwhere}: unknown key {key!r}")
        for key in ("reporter_visible", *_REQUIRED_FLAGS.get(name, ())):
            if key not in value:
                errors.append(f"{vwhere}: {key} is missing")
        for key in _BOOLEAN_KEYS & set(value):
            if not isinstance(value[key], bool):
                errors.append(f"{vwhere}: {key} must be true or false")
        _check_labels(value.get("labels"), vwhere, errors)
        if "description" in value:
            _check_labels(value["description"], vwhere, errors, what="description")
        elif name in DESCRIBED_AXES and value.get("reporter_visible"):
            errors.append(f"{vwhere}: a reporter-facing value needs a description")
        if staff_only and value.get("reporter_visible") is not False:
            errors.append(f"{vwhere}: {name} is staff-only; reporter_visible must be false")

    # Sub-values: one level deep, listed right after their parent, visible only with it.
    by_code = {v["code"]: v for v in values}
    parents = _check_tree(values, "parent", where, errors)
    current_top = None
    for value in values:
        code, parent = value["code"], value.get("parent")
        if parent is None:
            current_top = code
            continue
        if parent not in by_code:
            continue
        if parents.get(parent) is not None:
            errors.append(f"{where}.{code}: sub-values go one level deep only")
        elif parent != current_top:
            errors.append(f"{where}.{code}: list sub-values right after their parent {parent!r}")
        if value.get("reporter_visible") and not by_code[parent].get("reporter_visible"):
            errors.append(f"{where}.{code}: visible to reporters but its parent is not")

    if name == "bias":
        _check_bias(values, schemes, where, errors)
    elif name == "incident_type":
        _check_incident_types(values, where, errors)
    elif name == "setting":
        for value in values:
            if value.get("asks_platform") and not value.get("online"):
                errors.append(
                    f"{where}.{value['code']}: only an online setting asks for a platform"
                )
    elif name == "platform":
        _check_platforms(values, where, errors)


def _check_bias(values, schemes, where, errors):
    for value in values:
        vwhere = f"{where}.{value['code']}"
        mappings = value.get("mappings")
        if not isinstance(mappings, Mapping):
            if "mappings" in value:
                errors.append(f"{vwhere}: mappings must be an object")
            continue
        for scheme in schemes:
            if scheme not in mappings:
                errors.append(
                    f"{vwhere}: no mapping for scheme {scheme!r} (write [] if it is not counted)"
                )
        for scheme, codes in mappings.items():
            if scheme not in schemes:
                errors.append(f"{vwhere}: mapping to unknown scheme {scheme!r}")
                continue
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                errors.append(f"{vwhere}: mapping for {scheme!r} must be a list of codes")
                continue
            if len(set(codes)) != len(codes):
                errors.append(f"{vwhere}: mapping for {scheme!r} repeats a code")
            for code in codes:
                if code not in schemes[scheme]:
                    errors.append(f"{vwhere}: {scheme} code {code!r} is not declared in the scheme")
        if value.get("unspecified") and value.get("parent"):
            errors.append(f"{vwhere}: the 'not sure' value cannot be a sub-value")


def _check_incident_types(values, where, errors):
    for value in values:
        vwhere = f"{where}.{value['code']}"
        if value.get("hate_if_bias") and value.get("counts_as_hate"):
            errors.append(f"{vwhere}: hate_if_bias only applies when counts_as_hate is false")
        if value.get("counts_as_hate") and value.get("requires_bias") is False:
            errors.append(f"{vwhere}: a type that counts as hate must ask for the bias")
        hint = value.get("route_hint")
        if hint is not None and hint not in ROUTE_HINTS:
            errors.append(f"{vwhere}: unknown route_hint {hint!r}")


def _check_platforms(values, where, errors):
    owner: dict[str, str] = {}
    for value in values:
        domains = value.get("domains", [])
        if not isinstance(domains, list):
            errors.append(f"{where}.{value['code']}: domains must be a list")
            continue
        for domain in domains:
            if not isinstance(domain, str) or not _DOMAIN_RE.match(domain):
                errors.append(f"{where}.{value['code']}: {domain!r} is not a lower-case domain")
            elif domain in owner:
                errors.append(f"{where}: domain {domain!r} belongs to {owner[domain]!r} already")
            else:
                owner[domain] = value["code"]


def _vocabularies(data):
    """{vocabulary: {code: value}} for the axes and the schemes of one version's data."""
    result = {}
    axes = data.get("axes") if isinstance(data.get("axes"), Mapping) else {}
    for name, values in axes.items():
        if isinstance(values, list):
            result[name] = {v["code"]: v for v in values if isinstance(v, Mapping) and "code" in v}
    schemes = data.get("schemes") if isinstance(data.get("schemes"), Mapping) else {}
    for name, scheme in schemes.items():
        if isinstance(scheme, Mapping) and isinstance(scheme.get("values"), list):
            result[f"schemes.{name}"] = {
                v["code"]: v for v in scheme["values"] if isinstance(v, Mapping) and "code" in v
            }
    return result


def _english(value):
    labels = value.get("labels")
    return labels.get("en") if isinstance(labels, Mapping) else None


def _check_history(data, previous, errors):
    """A code keeps its meaning for ever: same parent and same English label (unless the new
    version lists it under ``reworded``); a code that disappears is listed under ``retired``
    (cumulatively) and never comes back."""
    retired = data.get("retired", {})
    reworded = data.get("reworded", {})
    for key, table in (("retired", retired), ("reworded", reworded)):
        if not isinstance(table, Mapping) or not all(
            isinstance(codes, list) for codes in table.values()
        ):
            errors.append(
                f"{key} must map a vocabulary ('bias', 'schemes.fr', …) to a list of codes"
            )
            return
    current = _vocabularies(data)
    for name, codes in retired.items():
        for code in codes:
            if code in current.get(name, {}):
                errors.append(f"{name}.{code}: listed as retired but still in use")
    for old in previous:
        if isinstance(old, Mapping) and old.get("version") == data.get("version"):
            errors.append(f"version {data.get('version')!r} is already taken by an older file")
    history = [_vocabularies(old) for old in previous if isinstance(old, Mapping)]
    for old in previous:
        if not isinstance(old, Mapping):
            continue
        for name, codes in (old.get("retired") or {}).items():
            for code in codes:
                if code in current.get(name, {}):
                    errors.append(f"{name}.{code}: this code was retired and cannot be reused")
    names = set(current).union(*history) if history else set()
    for name in sorted(names):
        now = current.get(name, {})
        latest: dict[str, Mapping] = {}
        for vocab in history:
            latest.update(vocab.get(name, {}))
        for code, before in latest.items():
            if code not in now:
                if code not in retired.get(name, []):
                    errors.append(
                        f"{name}.{code}: removed without being listed under retired.{name}"
                    )
                continue
            after = now[code]
            if before.get("parent") != after.get("parent"):
                errors.append(f"{name}.{code}: changed parent; use a new code instead")
            if _english(before) != _english(after) and code not in reworded.get(name, []):
                errors.append(
                    f"{name}.{code}: English label changed from {_english(before)!r} to "
                    f"{_english(after)!r}; if the meaning is the same list it under "
                    f"reworded.{name}, otherwise use a new code"
                )


# --------------------------------------------------------------------------------------------
# The loaded taxonomy


def _language(language):
    primary = str(language or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else FALLBACK_LANGUAGE


def _pick(texts, language):
    if not texts:
        return None
    return texts.get(_language(language)) or texts[FALLBACK_LANGUAGE]


@dataclass(frozen=True, eq=False)
class Value:
    """One value of an axis. Flags that do not apply to the axis keep their default."""

    axis: str
    code: str
    labels: Mapping[str, str]
    description: Mapping[str, str] | None = None
    parent: str | None = None
    reporter_visible: bool = True
    counts_as_hate: bool = False
    hate_if_bias: bool = False
    requires_bias: bool = False
    online: bool = False
    route_hint: str | None = None
    unspecified: bool = False
    asks_platform: bool = False
    asks_reference: bool = False
    mappings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    domains: tuple[str, ...] = ()

    def label(self, language):
        return _pick(self.labels, language)

    def describe(self, language):
        return _pick(self.description, language)

    def __repr__(self):
        return f"<Value {self.axis}.{self.code}>"


@dataclass(frozen=True, eq=False)
class SchemeValue:
    code: str
    labels: Mapping[str, str]
    source_label: str
    parent: str | None = None
    note: str | None = None

    def label(self, language):
        return _pick(self.labels, language)


class Scheme:
    """A jurisdiction's (or ODIHR's) own list of categories, possibly nested."""

    def __init__(self, name, data):
        self.name = name
        self.labels = MappingProxyType(dict(data["labels"]))
        self.sources = tuple(data.get("sources", ()))
        self.values = tuple(
            SchemeValue(
                code=v["code"],
                labels=MappingProxyType(dict(v["labels"])),
                source_label=v["source_label"],
                parent=v.get("parent"),
                note=v.get("note"),
            )
            for v in data["values"]
        )
        self._by_code = {v.code: v for v in self.values}

    def get(self, code):
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownCode(f"{self.name}: unknown code {code!r}") from None

    def label(self, language):
        return _pick(self.labels, language)

    def with_ancestors(self, codes):
        result = set()
        for code in codes:
            while code is not None:
                result.add(code)
                code = self.get(code).parent
        return result

    def __contains__(self, code):
        return code in self._by_code

    def __repr__(self):
        return f"<Scheme {self.name}>"


class Taxonomy:
    """One validated version of the taxonomy. Get it from ``taxonomy(version)``."""

    def __init__(self, data):
        self.version = data["version"]
        self.released = data.get("released")
        self.sources = tuple(MappingProxyType(dict(s)) for s in data["sources"])
        self.schemes = MappingProxyType(
            {name: Scheme(name, scheme) for name, scheme in data["schemes"].items()}
        )
        self._meta = {
            name: MappingProxyType(dict(info)) for name, info in data["axis_meta"].items()
        }
        self._axes = {
            name: tuple(self._value(name, raw) for raw in data["axes"][name]) for name in AXES
        }
        self._by_code = {name: {v.code: v for v in values} for name, values in self._axes.items()}
        self._children: dict[str, dict[str, list[Value]]] = {name: {} for name in AXES}
        for name, values in self._axes.items():
            for value in values:
                if value.parent:
                    self._children[name].setdefault(value.parent, []).append(value)

    @staticmethod
    def _value(axis, raw):
        description = raw.get("description")
        return Value(
            axis=axis,
            code=raw["code"],
            labels=MappingProxyType(dict(raw["labels"])),
            description=MappingProxyType(dict(description)) if description else None,
            parent=raw.get("parent"),
            reporter_visible=raw["reporter_visible"],
            counts_as_hate=raw.get("counts_as_hate", False),
            hate_if_bias=raw.get("hate_if_bias", False),
            requires_bias=raw.get("requires_bias", False),
            online=raw.get("online", False),
            route_hint=raw.get("route_hint"),
            unspecified=raw.get("unspecified", False),
            asks_platform=raw.get("asks_platform", False),
            asks_reference=raw.get("asks_reference", False),
            mappings=MappingProxyType(
                {scheme: tuple(codes) for scheme, codes in raw.get("mappings", {}).items()}
            ),
            domains=tuple(raw.get("domains", ())),
        )

    def __repr__(self):
        return f"<Taxonomy {self.version}>"

    # -- reading values ------------------------------------------------------------------

    def _values_of(self, axis):
        try:
            return self._axes[axis]
        except KeyError:
            raise UnknownCode(f"unknown axis {axis!r}") from None

    def axis(self, name, *, reporter=False) -> list[Value]:
        """The values of an axis in their order; ``reporter=True`` keeps what a reporter sees."""
        values = self._values_of(name)
        if not reporter:
            return list(values)
        if self.is_staff_only(name):
            return []
        return [v for v in values if v.reporter_visible]

    def get(self, axis, code) -> Value:
        self._values_of(axis)
        try:
            return self._by_code[axis][code]
        except KeyError:
            raise UnknownCode(f"{axis}: unknown code {code!r} in taxonomy {self.version}") from None

    def has(self, axis, code) -> bool:
        """Whether ``code`` is a value of ``axis`` in this version (for form validation)."""
        return code in self._by_code.get(axis, {})

    def label(self, axis, code, language) -> str:
        """The label in ``language`` ('sv', 'de-AT', …), falling back to English."""
        return self.get(axis, code).label(language)

    def description(self, axis, code, language) -> str | None:
        return self.get(axis, code).describe(language)

    def children(self, axis, code) -> list[Value]:
        self.get(axis, code)
        return list(self._children[axis].get(code, ()))

    def axis_label(self, axis, language) -> str:
        self._values_of(axis)
        return _pick(self._meta[axis]["labels"], language)

    def is_multiple(self, axis) -> bool:
        self._values_of(axis)
        return bool(self._meta[axis]["multiple"])

    def is_staff_only(self, axis) -> bool:
        self._values_of(axis)
        return axis in STAFF_ONLY_AXES or bool(self._meta[axis].get("staff_only"))

    def choices(self, axis, language, *, reporter=False, grouped=False):
        """Choices for a Django form field, in the taxonomy's order.

        Sub-values follow their parent, indented with an em space. With ``grouped=True`` a
        parent with sub-values becomes an option group (Django's nested choices) whose first
        option is the parent itself, so it stays selectable.
        """
        values = self.axis(axis, reporter=reporter)
        shown = {v.code for v in values}
        result = []
        for value in values:
            if value.parent is not None:
                continue
            kids = [k for k in self._children[axis].get(value.code, ()) if k.code in shown]
            label = value.label(language)
            if grouped and kids:
                group = [(value.code, label)] + [(k.code, k.label(language)) for k in kids]
                result.append((label, group))
            else:
                result.append((value.code, label))
                result.extend((k.code, INDENT + k.label(language)) for k in kids)
        return result

    # -- schemes -------------------------------------------------------------------------

    def scheme(self, name) -> Scheme:
        try:
            return self.schemes[name]
        except KeyError:
            raise UnknownScheme(f"unknown scheme {name!r} in taxonomy {self.version}") from None

    def scheme_label(self, scheme, code, language) -> str:
        return self.scheme(scheme).get(code).label(language)

    def map_bias(self, codes: Iterable[str] | str, scheme: str) -> frozenset[str]:
        """The categories of ``scheme`` in which a record with these bias codes is counted.

        A sub-value counts as its parent too (anti_roma_sinti is also racism_xenophobia), and a
        nested scheme category counts in the categories above it (Brå 'afrofobiska' is also
        'främlingsfientliga och rasistiska'). Schemes allow several categories per record, so
        total records, not category hits.
        """
        target = self.scheme(scheme)
        if isinstance(codes, str):
            codes = [codes]
        result: set[str] = set()
        for code in codes:
            value = self.get("bias", code)
            while value is not None:
                result.update(value.mappings.get(scheme, ()))
                value = self.get("bias", value.parent) if value.parent else None
        return frozenset(target.with_ancestors(result))

    # -- rules ---------------------------------------------------------------------------

    def counts_as_hate(self, incident_type: str, bias_codes: Iterable[str]) -> bool:
        """Whether a record enters the hate counts.

        - a hate type (``counts_as_hate``) counts once any bias answer is given, 'not sure'
          included (the reporter perceived hate but cannot say which: like Brå's unspecified
          hate crime);
        - a type counted separately but ``hate_if_bias`` (terrorist or violent extremist
          content) joins the hate counts only when a real bias, not 'not sure', is given;
        - any other type (disinformation, suspicious activity) never does.
        """
        kind = self.get("incident_type", incident_type)
        if isinstance(bias_codes, str):
            bias_codes = [bias_codes]
        biases = [self.get("bias", code) for code in bias_codes]
        if kind.counts_as_hate:
            return bool(biases)
        if kind.hate_if_bias:
            return any(not b.unspecified for b in biases)
        return False

    def is_online(self, incident_type: str | None = None, setting: str | None = None) -> bool:
        """Online when the incident type is an online one or it happened in an online setting."""
        kind = self.get("incident_type", incident_type) if incident_type else None
        place = self.get("setting", setting) if setting else None
        return bool((kind and kind.online) or (place and place.online))

    def platform_for_url(self, url: str) -> str | None:
        """The platform code whose domain the address belongs to, or None."""
        text = (url or "").strip()
        if not text:
            return None
        if "://" not in text:
            text = "//" + text
        try:
            host = (urlsplit(text).hostname or "").rstrip(".")
        except ValueError:
            return None
        for value in self._axes["platform"]:
            for domain in value.domains:
                if host == domain or host.endswith("." + domain):
                    return value.code
        return None


# --------------------------------------------------------------------------------------------
# Versions


@cache
def _files() -> tuple[tuple[int, Path], ...]:
    found = []
    for path in DATA_DIR.iterdir():
        match = _FILE_RE.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    if not found:
        raise TaxonomyError([f"no taxonomy file (v1.json, …) in {DATA_DIR}"])
    return tuple(sorted(found))


@cache
def _raw(number: int):
    path = dict(_files())[number]
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TaxonomyError([f"{path.name}: not valid JSON ({error})"]) from None


@cache
def _index() -> dict[str, int]:
    """{version string: file number}."""
    index: dict[str, int] = {}
    for number, path in _files():
        version = _raw(number).get("version")
        if version in index:
            raise TaxonomyError([f"{path.name}: version {version!r} is used by two files"])
        index[version] = number
    return index


def available_versions() -> list[str]:
    """Every published version, oldest first."""
    return [version for version, _ in sorted(_index().items(), key=lambda item: item[1])]


@cache
def _load(version: str) -> Taxonomy:
    try:
        number = _index()[version]
    except KeyError:
        raise UnknownVersion(f"no taxonomy version {version!r}") from None
    previous = [_raw(n) for n, _ in _files() if n < number]
    validate_taxonomy(_raw(number), previous)
    return Taxonomy(_raw(number))


def taxonomy(version: str | None = None) -> Taxonomy:
    """The taxonomy of ``version`` (as stored on a record), or the current one."""
    return _load(version or CURRENT_VERSION)


def version_in_force(day) -> str:
    """The version a record made on ``day`` (a date) was written in: the newest one released
    on or before it; the oldest when none was yet (for back-dated demo or imported data)."""
    versions = available_versions()
    chosen = versions[0]
    for version in versions:
        released = taxonomy(version).released
        if released and released <= day.isoformat():
            chosen = version
    return chosen


def display_label(axis: str, code: str, language, version: str | None = None) -> str:
    """The label to show for a code stored on a record written in ``version``.

    The current version's label where the code still exists: codes never change meaning, so a
    newer label is a better wording of the same thing (2026.2 made the French and German labels
    inclusive, and an old report should not keep showing the old wording). A retired code is
    read in the record's own version, then in any older one; the code itself when none knows it.
    """
    if not code:
        return ""
    tried = []
    for candidate in (CURRENT_VERSION, version, *reversed(available_versions())):
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        try:
            return taxonomy(candidate).label(axis, code, language)
        except (UnknownCode, UnknownVersion):
            continue
    return code


CURRENT_VERSION: str = _raw(_files()[-1][0])["version"]
