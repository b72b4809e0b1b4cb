"""The reporter's sentences render in every language, for every reason, without KeyError."""

import pytest
from django.utils import translation

from locus.cases.choices import ShareReason
from locus.cases.routing import (
    decision_sentence,
    evaluate,
    explain,
    record_only_sentence,
    sentence,
)
from locus.directory.choices import OrganisationType as T

from .helpers import listed, org, report, rule

LANGUAGES = ["en", "fr", "de", "sv"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", list(ShareReason))
@pytest.mark.parametrize("with_contact", [False, True])
def test_every_reason_has_a_sentence(language, reason, with_contact):
    text = sentence(
        reason=reason,
        with_contact=with_contact,
        organisation_name="Organisation X",
        language=language,
    )
    assert "Organisation X" in text and "%(" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_sentences_for_a_routing_result(language):
    police, team = org(T.POLICE, "Police"), org(T.LOCAL_AUTHORITY, "Council")
    result = evaluate(
        report(language=language), [rule(1, [police, team])], directory=listed(police, team)
    )
    lines = explain(result.destinations, language)
    assert len(lines) == 3  # police (not sent), council, and "record only"
    assert "Police" in lines[1] or "Police" in lines[0]
    assert record_only_sentence(result.destinations, language) == lines[-1]
    assert decision_sentence(result.destinations[0], language)


def test_the_sentence_follows_the_given_language_not_the_active_one():
    with translation.override("de"):
        english = sentence(
            reason=ShareReason.NO_POLICE_CONSENT,
            with_contact=False,
            organisation_name="P",
            language="en",
        )
        assert translation.get_language() == "de"
    assert english.startswith("We did not send")


def test_no_record_only_sentence_when_an_organisation_received_it():
    police = org(T.POLICE, "Police")
    result = evaluate(
        report(consent_police_anonymised=True), [rule(1, [police])], directory=listed(police)
    )
    assert record_only_sentence(result.destinations, "en") is None
