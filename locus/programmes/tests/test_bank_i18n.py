"""The indicator bank in four languages: every measure translated, sources untouched, the
active language used by the form, the bank list and new surveys."""

import copy
import json

import pytest
from django.conf import settings
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from locus.core.tenancy import place_scope
from locus.programmes import services
from locus.programmes.bank import (
    BANK_FILE,
    TRANSLATIONS,
    BankError,
    bank,
    bank_language,
    bank_measure,
    validate_bank,
)
from locus.programmes.models import Indicator, Survey

from .factories import indicator, period, programme

pytestmark = pytest.mark.django_db


def _raw():
    return json.loads(BANK_FILE.read_text(encoding="utf-8"))


def test_every_measure_has_french_german_and_swedish():
    data = _raw()
    validate_bank(data)  # the shipped file passes
    for item in data["measures"]:
        assert set(item["i18n"]) == set(TRANSLATIONS) == {"fr", "de", "sv"}
        for language in TRANSLATIONS:
            text = item["i18n"][language]
            for key in ("title", "description", "statement"):
                assert bool(text.get(key)) == bool(item.get(key)), (item["code"], language, key)
                if item.get(key):
                    # Translated, not copied: no text equals the English one.
                    assert text[key] != item[key], (item["code"], language, key)
            assert "source" not in text  # a citation stays in its original language


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda m: m.pop("i18n"), "i18n is required"),
        (lambda m: m["i18n"].pop("sv"), "i18n.sv is missing"),
        (lambda m: m["i18n"]["de"].pop("title"), "i18n.de.title is missing"),
        (lambda m: m["i18n"]["fr"].pop("statement"), "i18n.fr.statement is missing"),
        (lambda m: m["i18n"]["fr"].update(source="Enquête"), "i18n.fr.source is not translated"),
        (lambda m: m["i18n"].update(es={"title": "x"}), "unknown language 'es'"),
    ],
)
def test_validate_bank_refuses_a_missing_or_wrong_translation(damage, message):
    data = copy.deepcopy(_raw())
    first = data["measures"][0]  # has a statement
    assert first["statement"]
    damage(first)
    with pytest.raises(BankError, match=message):
        validate_bank(data)


def test_a_translated_statement_needs_an_english_one():
    data = copy.deepcopy(_raw())
    item = next(m for m in data["measures"] if not m.get("statement"))
    item["i18n"]["sv"]["statement"] = "Jag håller med."
    with pytest.raises(BankError, match="has no English statement"):
        validate_bank(data)


def test_bank_follows_the_active_language_and_keeps_the_source():
    english = bank_measure("cls_trust_neighbours", "en")
    with translation.override("fr"):
        french = bank_measure("cls_trust_neighbours")
        assert [m.title for m in bank()] == [m.title for m in bank("fr")]
    assert french.language == "fr" and french.title != english.title
    assert french.title.startswith("Part des personnes")
    assert french.statement == "On peut faire confiance à beaucoup de gens de mon quartier."
    assert french.source == english.source  # the citation is not translated
    assert (french.code, french.level, french.measure, french.outcome) == (
        english.code,
        english.level,
        english.measure,
        english.outcome,
    )
    assert bank_measure("cls_trust_neighbours", "de").title.startswith("Anteil der Menschen")
    assert bank_measure("cls_trust_neighbours", "sv-se").title.startswith("Andel som")
    with translation.override("es"):
        assert bank_measure("cls_trust_neighbours") == english  # not translated: English


@given(st.text(max_size=20) | st.sampled_from(["fr", "FR-ca", "de_AT", "sv-SE", "en-GB", ""]))
def test_bank_language_is_always_one_of_the_four(code):
    language = bank_language(code)
    assert language in ("en", "fr", "de", "sv")
    if code and code.lower()[:2] in TRANSLATIONS and (len(code) == 2 or code[2] in "-_"):
        assert language == code.lower()[:2]


def test_indicator_from_the_bank_in_german(world, active):
    p = programme(world.a)
    with translation.override("de"):
        i = services.indicator_save(
            programme=p, actor=None, data={"bank_code": "csew_safe_after_dark", "target": "70"}
        )
    assert i.title == bank_measure("csew_safe_after_dark", "de").title
    assert i.description.startswith("Zählen Sie")
    assert i.bank_code == "csew_safe_after_dark"


def test_default_questions_take_the_statement_in_the_language_asked(world, active):
    p = programme(world.a)
    i = indicator(p, bank_code="undp_reject_violence")
    q = period(p)
    survey = services.survey_create(indicator=i, period=q, actor=None, title="Efter", language="sv")
    statements = [x.text for x in survey.questions.all() if x.kind == "likert"]
    assert statements == [bank_measure("undp_reject_violence", "sv").statement]
    english = services.default_questions(i, language="en")[-1]["text"]
    assert english == "Violence is never acceptable to defend my group, religion or beliefs."


def _in(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_indicator_form_and_bank_list_in_the_users_language(world, client):
    p = programme(world.a)
    client.force_login(world.a.users["editor"])
    url = f"/alpha/programmes/{p.pk}/indicators/new/"
    swedish = bank_measure("cls_belonging_neighbourhood", "sv")
    body = _in(client, "sv").get(url).content.decode()
    assert swedish.title in body  # the bank list and the form's choices
    assert body.count(swedish.title) >= 2
    assert bank_measure("cls_belonging_neighbourhood", "en").title not in body
    assert swedish.source in body  # the source as published
    filled = client.get(url + "?bank=cls_belonging_neighbourhood").content.decode()
    assert f'value="{swedish.title}"' in filled
    response = client.post(
        url,
        {
            "bank_code": "cls_belonging_neighbourhood",
            "level": "outcome",
            "title": "",
            "measure": "percent",
            "target": "60",
            "frequency": "quarterly",
            "ascending": "on",
        },
    )
    assert response.status_code == 302
    with place_scope(world.a.place):
        assert Indicator.objects.get(programme=p).title == swedish.title


def test_survey_from_a_bank_measure_uses_the_request_language(world, client):
    p = programme(world.a)
    i = indicator(p, bank_code="cls_different_backgrounds")
    q = period(p)
    client.force_login(world.a.users["editor"])
    response = _in(client, "fr").post(
        f"/alpha/programmes/{p.pk}/indicators/{i.pk}/survey/new/",
        {"title": "Après les séances", "period": q.pk, "phase": "post", "intro": ""},
    )
    assert response.status_code == 302
    with place_scope(world.a.place):
        survey = Survey.objects.get(indicator=i)
        texts = [x.text for x in survey.questions.all()]
    assert texts[-1] == bank_measure("cls_different_backgrounds", "fr").statement
