"""Ids and tokens read from text that a person or a client sent: a button's value (`remove-12`),
a query parameter (`?area=12`), an OAI identifier, a token in an address."""

import re

# ASCII digits only: `str.isdigit()` also accepts "²" (which int() refuses: a 500) and other
# scripts' digits. Eighteen digits stay below the largest database id (2**63 - 1).
_ID = re.compile(r"[0-9]{1,18}")


def parse_id(text):
    """The id written in `text`, or None when it is not one that could exist."""
    if not isinstance(text, str) or not _ID.fullmatch(text):
        return None
    return int(text)


# What secrets.token_urlsafe() writes, with a prefix such as `msg_`.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_token(text):
    """Could `text` be a token Locus made? Anything else names nothing, and is not compared
    with the database: PostgreSQL refuses a NUL in a query (a 500)."""
    return isinstance(text, str) and _TOKEN.fullmatch(text) is not None
