"""docs/api.md promises integrators conventions; these tests hold the code to them (and the page
to the code): the error codes it lists, the page envelope, the token page's address and the
rules for roles, the rate limits it quotes."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
SOURCE = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def text():
    return DOC.read_text()


def _section(text, title):
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_error_code_it_lists_is_one_locus_answers(text):
    rows = [
        line for line in _section(text, "Errors").splitlines() if re.match(r"\| \d{3} \|", line)
    ]
    codes = {code for row in rows for code in re.findall(r"`([a-z_]+)`", row.split("|")[2])}
    assert {"validation_error", "not_found", "server_error", "rate_limited"} <= codes
    sources = "\n".join(
        path.read_text() for path in SOURCE.rglob("*.py") if "tests" not in path.parts
    )
    for code in codes:
        assert f'"{code}"' in sources, f"docs/api.md lists `{code}`, which no code answers"


def test_the_page_envelope_is_the_one_the_lists_answer(text):
    from locus.api.pagination import PAGE_SIZE, PAGE_SIZE_MAX, PageOut

    section = _section(text, "Lists and pages")
    envelope = re.search(r'`\{("count".*?)\}`', section).group(1)
    fields = set(re.findall(r'"([a-z_]+)"', envelope))
    assert fields == set(PageOut.model_fields) | {"results"}
    assert f"{PAGE_SIZE} and {PAGE_SIZE_MAX} for most" in section


def test_tokens_are_made_where_it_says_by_the_roles_it_names(text, db):
    from locus.accounts.choices import Role
    from locus.accounts.policies import Capability, role_can

    assert reverse("accounts:tokens", args=["london"]) == "/london/staff/tokens/"
    assert "`/<place>/staff/tokens/`" in text
    assert "Every role but *member* may make tokens." in text
    assert [role for role in Role if not role_can(role, Capability.USE_API)] == [Role.MEMBER]
    table = _section(text, "Authentication and tokens")
    named = set(re.findall(r"^  \| ([a-z]+) \|", table, flags=re.M)) - {"role"}
    assert named == {str(role.label).lower() for role in Role if role != Role.MEMBER}


def test_the_rate_limits_it_quotes_are_the_defaults(text):
    section = _section(text, "Rate limits")
    rates = settings.LOCUS_RATE_LIMITS
    assert rates["report.submit"] == "10/h" and "10 submissions" in section
    assert rates["followup.open"] == "20/h" and "20 follow-up openings an hour" in section
    assert rates["followup.reference"] == "20/h" and "20 attempts an hour" in section
    assert rates["api.token"] == "600/m" and "600 requests a\nminute per token" in section
    assert rates["api.session"] == "600/m" and "session 600 a minute per person" in section


def test_the_token_lifetimes_it_quotes_are_the_ones_offered(text):
    from locus.accounts.models import TOKEN_DEFAULT_LIFETIME, TOKEN_EXPIRY_WARNING, TOKEN_LIFETIMES

    section = _section(text, "Authentication and tokens")
    assert TOKEN_LIFETIMES == (30, 90, 180, 365) and TOKEN_DEFAULT_LIFETIME == 90
    assert "(30, 90 — the\n  default —, 180 or 365 days)" in section
    assert TOKEN_EXPIRY_WARNING.days == 7 and "expire within 7 days" in section
    assert "`token_expired`" in section
