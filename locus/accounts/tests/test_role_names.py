"""One name per role per language, wherever a role is named (docs/architecture.md, "Languages").

French and German name a role by its function, not by a gendered word for a person
("Administration", not "Administrateur"/"Administratorin"); Swedish words for people have no
gender. French had "Analyste" and "Éditeur" beside "Administration" and "Suivi des dossiers"
(and "éditeur" is also the library's word for a publisher), and sentences said "les personnes
chargées de son administration", "Administratorinnen und Administratoren", "l'équipe
éditoriale" for the roles the pickers called otherwise."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from locus.accounts.choices import ROLE_DESCRIPTIONS, Role

ROLE_NAMES = {
    "fr": {
        "admin": "Administration",
        "coordinator": "Coordination",
        "caseworker": "Suivi des dossiers",
        "analyst": "Analyse",
        "editor": "Rédaction",
        "member": "Membre",
    },
    "de": {
        "admin": "Administration",
        "coordinator": "Koordination",
        "caseworker": "Fallbearbeitung",
        "analyst": "Analyse",
        "editor": "Redaktion",
        "member": "Mitglied",
    },
    "sv": {
        "admin": "Administratör",
        "coordinator": "Samordnare",
        "caseworker": "Handläggare",
        "analyst": "Analytiker",
        "editor": "Redaktör",
        "member": "Medlem",
    },
}

# An English word for a role in a message → the role it names. "platform administrator" is not
# a role of an organisation (it is the installation's staff).
ROLE_WORDS = {
    r"(?<!platform )administrators?\b": "admin",
    r"\bcoordinators?\b": "coordinator",
    r"\bcaseworkers?\b": "caseworker",
    r"\banalysts?\b": "analyst",
    r"\beditors?\b": "editor",
}


@pytest.mark.parametrize("language", ["fr", "de", "sv"])
def test_each_role_has_its_one_name(language):
    with translation.override(language):
        names = {code: str(label) for code, label in Role.choices}
    assert names == ROLE_NAMES[language]


@pytest.mark.parametrize("language", ["fr", "de", "sv"])
def test_sentences_name_a_role_as_the_role_pickers_do(language):
    catalog = polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES/django.po"))
    faults = []
    for entry in catalog:
        if entry.obsolete or entry.msgid in {label for _code, label in Role.choices}:
            continue
        text = entry.msgstr or " ".join(entry.msgstr_plural.values())
        for pattern, role in ROLE_WORDS.items():
            name = ROLE_NAMES[language][role]
            # French writes a role inside a sentence in lower case ("la rédaction de la
            # bibliothèque"); German and Swedish as their nouns are written.
            found = name.lower() in text.lower() if language == "fr" else name in text
            if not found and language == "sv":
                found = name.lower() in text.lower()
            if re.search(pattern, entry.msgid, re.IGNORECASE) and not found:
                faults.append(f"{entry.msgid!r} → {text!r} (no {name!r})")
    assert not faults, "\n".join(faults)


def test_the_api_names_the_role_in_the_reader_s_language(world, client):
    client.force_login(world.a.users["analyst"])
    answer = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="de")
    contexts = answer.json()["contexts"]
    assert [(c["role"], c["role_label"]) for c in contexts] == [("analyst", "Analyse")]
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert set(schema["Role"]["enum"]) == {code for code, _label in Role.choices}


def test_the_members_page_says_what_each_role_may_do(world, client, settings):
    """Six roles to choose from when inviting someone: each with its name and a sentence."""
    client.force_login(world.a.users["admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get("/alpha/staff/members/").content.decode()
    assert set(ROLE_DESCRIPTIONS) == set(Role)
    with translation.override("fr"):
        for role, name in ROLE_NAMES["fr"].items():
            assert f"<dt>{name}</dt><dd>{ROLE_DESCRIPTIONS[role]}</dd>" in page
