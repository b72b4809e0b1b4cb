"""The interface is complete in French, German and Swedish: no missing, empty or fuzzy message,
and the compiled catalogs match the sources."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["fr", "de", "sv"]


def _catalog(lang):
    return polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_has_no_empty_or_fuzzy_message(lang):
    catalog = _catalog(lang)
    assert len(catalog) > 50
    untranslated = [e.msgid for e in catalog.untranslated_entries() if not e.obsolete]
    fuzzy = [e.msgid for e in catalog.fuzzy_entries()]
    assert not untranslated, f"{lang}: untranslated {untranslated[:10]}"
    assert not fuzzy, f"{lang}: fuzzy {fuzzy[:10]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalog_matches_source(lang):
    po = {(e.msgctxt, e.msgid): e for e in _catalog(lang).translated_entries()}
    mo = polib.mofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): e for e in mo}
    assert set(po) <= set(compiled), f"{lang}: run `make messages` (django.mo is stale)"
    for key, entry in po.items():
        assert compiled[key].msgstr == entry.msgstr or compiled[key].msgstr_plural, key


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_every_message_in_the_code_is_in_the_catalogs(tmp_path):
    """Extract the messages afresh into a copy of the catalogs and compare."""
    for name in ("locus", "config", "manage.py"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--no-obsolete",
            "--no-location",
            *[f"-l{lang}" for lang in LANGUAGES],
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=180,
    )
    for lang in LANGUAGES:
        fresh = polib.pofile(str(tmp_path / "locale" / lang / "LC_MESSAGES" / "django.po"))
        missing = [e.msgid for e in fresh if not e.obsolete and (not e.translated() or e.fuzzy)]
        assert not missing, f"{lang}: {len(missing)} messages to translate, e.g. {missing[:8]}"


def test_place_pages_default_to_the_place_language(world, client):
    world.b.place.default_language = "sv"
    world.b.place.save()
    assert b'lang="sv"' in client.get("/beta/").content
    # The browser's supported choice wins over the place default…
    assert b'lang="fr"' in client.get("/beta/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content
    # …and an explicit choice wins over both.
    client.cookies["django_language"] = "de"
    assert b'lang="de"' in client.get("/beta/", HTTP_ACCEPT_LANGUAGE="fr").content


@pytest.mark.parametrize("lang", ["en", *LANGUAGES])
def test_the_empty_choice_of_a_select_is_in_the_readers_language(lang):
    """Django 6.1's "- Select an option -" (a model field's blank choice, a model choice field
    without its own empty label) reads in every language of Locus."""
    from django import forms
    from django.db import models
    from django.utils import translation

    from locus.directory.models import Organisation

    with translation.override(lang):
        field = models.CharField(choices=[("a", "A")], blank=True).formfield()
        blank = str(field.choices[0][1])
        model_blank = str(forms.ModelChoiceField(queryset=Organisation.objects.none()).empty_label)
    assert blank == model_blank
    assert blank == (
        "- Select an option -"
        if lang == "en"
        else _catalog(lang).find("- Select an option -").msgstr
    )
    if lang != "en":
        assert blank != "- Select an option -"
