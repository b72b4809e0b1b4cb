"""Reading what a person typed into a search box: words, "quoted phrases" and -exclusions.

Nothing typed is ever passed to a full-text engine as syntax: each term is quoted by the
backend, so no input can make FTS5 or `websearch_to_tsquery` fail, and operators such as
AND, OR, NEAR or `*` are plain words.
"""

import re
from dataclasses import dataclass, field

MAX_QUERY_LENGTH = 200
MAX_TERMS = 16

# A quoted phrase (the closing quote may be missing) or a run of non-space characters; either
# may start with "-" to exclude it.
_TOKEN_RE = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_HAS_WORD_RE = re.compile(r"[^\W_]")  # a letter or digit: what both engines index
# Control characters and the private-use characters the highlighter uses as markers.
_DROP_RE = re.compile("[\x00-\x1f\x7f\ue000-\ue003]")


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    include: tuple[Term, ...] = field(default_factory=tuple)
    exclude: tuple[Term, ...] = field(default_factory=tuple)

    def __bool__(self):
        return bool(self.include or self.exclude)

    @property
    def words(self):
        """Every included word, for messages and tests."""
        return [word for term in self.include for word in term.text.split()]


def parse_query(text):
    """`text` → the terms to find and the terms to leave out (at most MAX_TERMS in all)."""
    text = _DROP_RE.sub(" ", text or "")[: MAX_QUERY_LENGTH * 2]
    include, exclude, seen = [], [], set()
    for match in _TOKEN_RE.finditer(text):
        minus_phrase, phrase, minus_word, word = match.groups()
        is_phrase = phrase is not None
        raw = phrase if is_phrase else word
        negative = bool(minus_phrase if is_phrase else minus_word)
        cleaned = " ".join(raw.split())
        if not cleaned or not _HAS_WORD_RE.search(cleaned):
            continue
        term = Term(cleaned, phrase=is_phrase and " " in cleaned)
        key = (negative, term.text.casefold())
        if key in seen:
            continue
        seen.add(key)
        (exclude if negative else include).append(term)
        if len(include) + len(exclude) >= MAX_TERMS:
            break
    return ParsedQuery(include=tuple(include), exclude=tuple(exclude))
