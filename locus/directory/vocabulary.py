"""The directory's controlled vocabularies (service types, target groups, languages), shipped as
versioned data in `taxonomy_data/vN.json`. A published file is never edited: a new version is
a new file, and codes keep their meaning across versions."""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "taxonomy_data"
_FILE_RE = re.compile(r"^v(\d+)\.json$")
AXES = ("service_type", "target_group", "language")


@dataclass(frozen=True)
class Term:
    code: str
    labels: dict
    support: bool = False  # service types: offered to people who were targeted
    bias: tuple = ()  # target groups: the report bias codes they serve ("*" = any)

    def label(self, language):
        language = (language or "en").split("-")[0]
        return self.labels.get(language) or self.labels.get("en") or self.code


class Vocabulary:
    def __init__(self, raw):
        self.version = raw["version"]
        self._meta = raw.get("axis_meta", {})
        self._terms = {
            axis: [
                Term(
                    code=item["code"],
                    labels=item["labels"],
                    support=bool(item.get("support")),
                    bias=tuple(item.get("bias", ())),
                )
                for item in raw["axes"][axis]
            ]
            for axis in AXES
        }
        self._by_code = {axis: {t.code: t for t in terms} for axis, terms in self._terms.items()}

    def terms(self, axis):
        return list(self._terms[axis])

    def codes(self, axis):
        return [t.code for t in self._terms[axis]]

    def has(self, axis, code):
        return code in self._by_code[axis]

    def term(self, axis, code):
        return self._by_code[axis].get(code)

    def label(self, axis, code, language):
        term = self.term(axis, code)
        return term.label(language) if term else code

    def axis_label(self, axis, language):
        labels = self._meta.get(axis, {}).get("labels", {})
        return labels.get((language or "en").split("-")[0]) or labels.get("en") or axis

    def choices(self, axis, language):
        return [(t.code, t.label(language)) for t in self._terms[axis]]

    def support_types(self):
        return [t.code for t in self._terms["service_type"] if t.support]

    def groups_for_bias(self, codes):
        """Target groups serving people targeted for any of `codes` ("everyone" included)."""
        codes = set(codes)
        return [
            t.code
            for t in self._terms["target_group"]
            if "*" in t.bias or codes.intersection(t.bias)
        ]


@cache
def vocabulary() -> Vocabulary:
    """The newest published vocabulary."""
    files = sorted(
        (int(m.group(1)), path) for path in DATA_DIR.iterdir() if (m := _FILE_RE.match(path.name))
    )
    return Vocabulary(json.loads(files[-1][1].read_text(encoding="utf-8")))
