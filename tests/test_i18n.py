"""The interface is complete in French, German and Swedish: no missing, empty or fuzzy message,
and the compiled catalogs match the sources."""

import json
import re
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


# French puts a no-break space before the high punctuation marks ("libellé : valeur"); English,
# German and Swedish none. So a "label: value" must be one translated string, colon inside.
NO_BREAK_SPACES = "\u00a0\u202f"
# A high punctuation mark used as punctuation: followed by a space, the end, or markup. Not
# inside <code>, nor a JSON key ("skip_invalid": true), an address (https://) or a time.
HIGH_PUNCTUATION = re.compile(r'(?<!")([:;?!])(?=\s|$|[<»”)])')
CODE = re.compile(r"<code>.*?</code>", re.S)


# Guillemets hold their text with no-break spaces too: « texte », never « at a line's end.
LOOSE_GUILLEMET = re.compile(r"«(?![\u00a0\u202f])|(?<![\u00a0\u202f])»")
# One apostrophe throughout: the typographic one (l’alerte), as the catalog and the data agree.
STRAIGHT_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
# French labels shipped as data rather than messages: taxonomies and vocabularies, every
# published version (an old one is still shown for the codes it alone knows).
FRENCH_DATA = [
    *(
        str(path.relative_to(ROOT))
        for folder in (
            "locus/reporting/taxonomy_data",
            "locus/directory/taxonomy_data",
            "locus/library/vocabulary_data",
        )
        for path in sorted((ROOT / folder).glob("v*.json"))
    ),
    "locus/programmes/data/indicator_bank.json",
]


def _french_spacing_faults(text):
    text = CODE.sub("", text)
    return [
        text[max(0, m.start() - 25) : m.end()]
        for m in HIGH_PUNCTUATION.finditer(text)
        if m.start() == 0 or text[m.start() - 1] not in NO_BREAK_SPACES
    ] + [
        text[max(0, m.start() - 25) : m.end() + 5]
        for pattern in (LOOSE_GUILLEMET, STRAIGHT_APOSTROPHE)
        for m in pattern.finditer(text)
    ]


def test_french_has_a_no_break_space_before_high_punctuation_and_inside_guillemets():
    faults = {}
    for entry in _catalog("fr"):
        texts = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            if found := _french_spacing_faults(text):
                faults[entry.msgid] = found
    assert not faults, f"{len(faults)} French messages, e.g. {list(faults.items())[:5]}"


def _french_texts(value, lang="fr"):
    """The texts in `lang` of a data file (labels and descriptions keyed by language)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == lang and isinstance(inner, str):
                yield inner
            elif key == lang and isinstance(inner, dict):  # the indicator bank's i18n
                yield from (text for text in inner.values() if isinstance(text, str))
            else:
                yield from _french_texts(inner, lang)
    elif isinstance(value, list):
        for inner in value:
            yield from _french_texts(inner, lang)


@pytest.mark.parametrize("path", FRENCH_DATA)
def test_french_labels_in_data_files_follow_the_same_typography(path):
    data = json.loads((ROOT / path).read_text(encoding="utf-8"))
    texts = list(_french_texts(data))
    assert texts
    faults = [found for text in texts if (found := _french_spacing_faults(text))]
    assert not faults, f"{len(faults)} French labels in {path}, e.g. {faults[:5]}"


def test_the_french_spacing_check_can_fail():
    assert _french_spacing_faults("l'alerte") == ["l'alert"]
    assert _french_spacing_faults("Statut : ouvert") == ["Statut :"]
    assert _french_spacing_faults("Statut: ouvert") == ["Statut:"]
    assert _french_spacing_faults("Vraiment ?") == ["Vraiment ?"]
    assert not _french_spacing_faults("Statut\u00a0: ouvert. Vraiment\u202f?")
    assert not _french_spacing_faults('envoyez "skip_invalid": true à 12:30, https://x.org')


# Text after a tag, a variable or a closing element, then a colon: a colon no catalog can move.
# (Inside {% blocktranslate %} the colon is part of the message and translated with it.)
LOOSE_COLON = re.compile(r"(%\}|\}\}|</(?:strong|a|span|b|em|code)>)[ \t]*:(?=\s|<|$)")
TRANSLATED_OR_COMMENT = re.compile(
    r"\{%\s*blocktranslate\b.*?\{%\s*endblocktranslate\s*%\}"
    r"|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|\{#.*?#\}",
    re.S,
)


def _loose_colons(source):
    # Blank what is translated or a comment, keeping line breaks for the line numbers.
    text = TRANSLATED_OR_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), source)
    return [text.count("\n", 0, m.start()) + 1 for m in LOOSE_COLON.finditer(text)]


def test_templates_put_the_colon_of_a_label_in_the_translated_message():
    faults = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "locus").rglob("*.html"))
        for line in _loose_colons(path.read_text(encoding="utf-8"))
    ]
    assert not faults, f"write 'label: value' as one translated message: {faults}"


def test_the_loose_colon_check_can_fail():
    assert _loose_colons('<p>{% translate "Status" %}: <strong>{{ s }}</strong></p>') == [1]
    assert _loose_colons("<li>\n{{ label }}: {{ value }}</li>") == [2]
    assert _loose_colons("<li><strong>{{ label }}</strong>: {{ value }}</li>") == [1]
    assert not _loose_colons('<p>{% translate "Status:" %} <strong>{{ s }}</strong></p>')
    assert not _loose_colons('<option value="{{ m.pk }}:{{ p.slug }}">')
    assert not _loose_colons(
        "{% blocktranslate trimmed with a=b %}{{ a }}: ok{% endblocktranslate %}"
    )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "Status: "), ("fr", "Statut\u00a0: "), ("de", "Status: "), ("sv", "Status: ")],
)
def test_a_label_and_its_value_in_each_language(lang, expected):
    from django.template import Context, Template
    from django.utils import translation

    template = Template(
        '{% load i18n %}{% translate "Status:" %} {% blocktranslate trimmed '
        'context "a label and its value" with label=a value=b %}{{ label }}: {{ value }}'
        "{% endblocktranslate %}"
    )
    with translation.override(lang):
        rendered = template.render(Context({"a": "Area", "b": "North"}))
    assert rendered.startswith(expected)
    separator = "\u00a0: " if lang == "fr" else ": "
    assert rendered.endswith(f"Area{separator}North")


# allauth's own pages and e-mails that Locus shows (sign-in, two-factor authentication, password
# reset and change, e-mail addresses and their confirmation, sign-out) read in Locus's voice.
# Locus's catalogs override allauth's messages where they break its conventions: the messages
# are listed in locus/accounts/allauth_messages.py. Pages Locus does not offer are left out.
ALLAUTH_SHOWN = re.compile(r"^(templates/(account|mfa)/|account/|mfa/)")
ALLAUTH_NOT_SHOWN = re.compile(
    r"signup|phone|login_code|username|passkey|unknown_account|account_already_exists"
    r"|admin\.py|models\.py|verification_code|templates/account/login\.html"
)
ALLAUTH_NOT_SHOWN_MESSAGE = re.compile(r"[Uu]sername|[Pp]hone")
FRENCH_EMAIL = re.compile(r"(?<![(\w-])[Ee]mails?\b(?!\))")  # "e-mail", not "email"
GERMAN_DU = re.compile(r"\b(du|dich|dir|dein\w*|Du|Dich|Dir|Dein\w*|Bist)\b")  # Locus says "Sie"
SWEDISH_EPOST = re.compile(r"\b[Ee]post|\bmail(?:et)?\b")  # Locus writes "e-post"


def _allauth_messages_shown():
    import allauth

    path = Path(allauth.__file__).parent / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    for entry in polib.pofile(str(path)):
        paths = [p for p, _line in entry.occurrences if ALLAUTH_SHOWN.match(p)]
        if (
            not entry.obsolete
            and paths
            and not all(ALLAUTH_NOT_SHOWN.search(p) for p in paths)
            and not ALLAUTH_NOT_SHOWN_MESSAGE.search(entry.msgid)
        ):
            yield entry


def test_allauths_messages_on_locus_pages_follow_locus_conventions():
    """allauth's French used straight apostrophes, no no-break space before "?" or ":" and
    "email"; its German says "du" where Locus says "Sie"; its Swedish writes "epost"."""
    from django.utils import translation

    entries = list(_allauth_messages_shown())
    assert len(entries) > 150
    faults = []
    for entry in entries:
        for lang, check in [
            ("fr", lambda t: _french_spacing_faults(t) or FRENCH_EMAIL.findall(t)),
            ("de", GERMAN_DU.findall),
            ("sv", SWEDISH_EPOST.findall),
        ]:
            with translation.override(lang):
                if entry.msgid_plural:
                    forms = [entry.msgid, entry.msgid_plural]
                    text = " ".join(translation.ngettext(*forms, n) for n in (1, 5))
                elif entry.msgctxt:
                    text = translation.pgettext(entry.msgctxt, entry.msgid)
                else:
                    text = translation.gettext(entry.msgid)
            if found := check(text):
                faults.append((lang, entry.msgid[:60], found))
    assert not faults, (
        f"{len(faults)} allauth messages to override in locus/accounts/allauth_messages.py, "
        f"e.g. {faults[:5]}"
    )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", "Mot de passe oublié\u00a0? Indiquez votre adresse e-mail"),
        ("de", "Passwort vergessen? Geben Sie unten Ihre E-Mail-Adresse ein"),
        ("sv", "Glömt ditt lösenord? Ange din e-postadress nedan"),
    ],
)
def test_allauths_password_reset_page_reads_in_locus_voice(client, db, lang, expected):
    client.cookies["django_language"] = lang
    assert expected in client.get("/accounts/password/reset/").content.decode()


# --- One voice per language --------------------------------------------------------------------
# Locus addresses a person as "vous", "Sie" and "du" throughout (Swedish says "ni" only to an
# organisation or a team, which is plural). Quotation marks and dashes follow each language:
# French « … », German „…“, Swedish ”…”; German and Swedish put a spaced en dash (" – ") where
# English and French may use a spaced em dash.
WRONG_ADDRESS = {
    "fr": re.compile(r"\b(tu|toi|ton|ta|tes|t’)\b", re.I),
    "de": re.compile(r"\b(du|dich|dir|dein\w*|euch|euer|eure\w*)\b", re.I),
    "sv": re.compile(r"(?<![.:!?] )(?<!^)\b(Ni|Er|Ert|Era)\b"),  # formal "Ni", long out of use
}
WRONG_QUOTES = {"fr": re.compile(r"[“”„]"), "de": re.compile(r"[”«»]"), "sv": re.compile(r"[“„«»]")}
# An em dash only as an ornament around a whole message ("— write a new indicator —").
EM_DASH_INSIDE = re.compile(r"(?<=.)—(?=.)", re.S)
# Swedish writes "e-post" and "e-postmeddelande", never "mejl", "mail" or "epost".
SWEDISH_EMAIL_WORDS = re.compile(r"\b[Ee]post|\b[Mm]ail(?:et|en)?\b|\b[Mm]ejl\w*")
# German writes "E-Mail", never "Email" or "Mail".
GERMAN_EMAIL_WORDS = re.compile(r"(?<![-\w/])(?:Email|eMail|Mail)\b")
# French writes "e-mail", never "email", "mail" or "courriel".
FRENCH_EMAIL_WORDS = re.compile(
    r"(?<![(\w-])[Ee]mails?\b(?!\))|\b[Cc]ourriels?\b|(?<![\w-])[Mm]ails?\b"
)


def _texts(entry):
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def _voice_faults(lang, text):
    faults = WRONG_ADDRESS[lang].findall(text) + WRONG_QUOTES[lang].findall(text)
    if lang == "de":
        faults += ["„…“ unpaired"] if text.count("„") != text.count("“") else []
    if lang in ("de", "sv"):
        faults += EM_DASH_INSIDE.findall(text.strip())
    if lang == "sv":
        faults += SWEDISH_EMAIL_WORDS.findall(text)
    if lang == "fr":
        faults += FRENCH_EMAIL_WORDS.findall(text)
    if lang == "de":
        faults += GERMAN_EMAIL_WORDS.findall(text)
    if text.count('"') % 2:
        faults.append('an unpaired "')
    return faults


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_keeps_one_form_of_address_and_its_own_typography(lang):
    faults = [
        (entry.msgid[:60], found)
        for entry in _catalog(lang)
        if not entry.obsolete
        for text in _texts(entry)
        if (found := _voice_faults(lang, text))
    ]
    assert not faults, f"{lang}: {len(faults)} messages, e.g. {faults[:6]}"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", FRENCH_DATA)
def test_labels_in_data_files_keep_the_same_voice(path, lang):
    """The taxonomies and the indicator bank: what a reporter and a survey participant read."""
    data = json.loads((ROOT / path).read_text(encoding="utf-8"))
    texts = list(_french_texts(data, lang))
    assert texts
    faults = [(text[:50], found) for text in texts if (found := _voice_faults(lang, text))]
    assert not faults, f"{len(faults)} {lang} labels in {path}, e.g. {faults[:5]}"


def test_the_voice_check_can_fail():
    assert _voice_faults("fr", "Si tu veux") == ["tu"]
    assert _voice_faults("fr", "un “mot”") == ["“", "”"]
    assert not _voice_faults("fr", "Si vous voulez, « mot » — ainsi")
    assert _voice_faults("fr", "Ce courriel, cet email, ce mail") == ["courriel", "email", "mail"]
    assert not _voice_faults("fr", "Cet e-mail (email) part vers mailto:")
    assert _voice_faults("de", "Wenn du willst") == ["du"]
    assert _voice_faults("de", "ein „Wort” – so") == ["”", "„…“ unpaired"]
    assert _voice_faults("de", "Locus — lokal") == ["—"]
    assert _voice_faults("sv", "en attack, ett val —, visade") == ["—"]
    assert not _voice_faults("de", "— einen neuen Indikator formulieren —")
    assert not _voice_faults("de", "Wenn Sie „Senden“ drücken – so")
    assert _voice_faults("de", "Email-Adresse, Mail") == ["Email", "Mail"]
    assert not _voice_faults("de", "E-Mail an mailto:x")
    assert _voice_faults("sv", "Skicka ett mejl") == ["mejl"]
    assert _voice_faults("sv", "Vill Ni ha stöd?") == ["Ni"]
    assert not _voice_faults("sv", "Ni kan inte skicka e-post till ”Dela” – ni")
    assert _voice_faults("de", 'Datum: %(timestamp)s"') == ['an unpaired "']
    assert not _voice_faults("de", 'z. B. "4711"')


# --- Nothing visible is left in English --------------------------------------------------------
# Text a person reads in a template is inside {% translate %} or {% blocktranslate %}: a text
# node, or an attribute a person reads (aria-label, title, placeholder, alt). What may stay as
# is: product and format names, file names, and code (<pre>, <code>).
TEMPLATE_NOT_TEXT = re.compile(
    r"\{%\s*blocktranslate\b.*?\{%\s*endblocktranslate\s*%\}"
    r"|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|\{#.*?#\}"
    r"|<(script|style|pre|code)\b.*?</\1>|<!--.*?-->|\{%.*?%\}|\{\{.*?\}\}",
    re.S,
)
READ_ATTRIBUTE = re.compile(r'\b(?:aria-label|aria-description|title|placeholder|alt)="([^"]*)"')
TAG = re.compile(r"<[^>]*>", re.S)
NOT_WORDS = re.compile(
    r"\bLocus\b|\b(?:PDF|HTTP|CSV|GeoJSON|JSON|API|ms)\b|[\w.-]+\.(?:csv|geojson|json)\b"
    r"|&\w+;|\bauth-\w+"  # entities; the auth layout's CSS classes, given as blocks
)


def _untranslated_text(source, *, html=True):
    def blank(match):
        return re.sub(r"[^\n]", " ", match.group())

    text = TEMPLATE_NOT_TEXT.sub(blank, source)
    found = [value for value in READ_ATTRIBUTE.findall(text) if re.search(r"[A-Za-z]{2}", value)]
    if html:
        text = TAG.sub(blank, text)
    for line in text.splitlines():
        if re.search(r"[A-Za-z]{2}", NOT_WORDS.sub("", line)):
            found.append(line.strip())
    return found


def test_templates_leave_no_visible_text_untranslated():
    faults = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "locus").rglob("*"))
        if path.suffix in (".html", ".txt") and "templates" in path.parts
        if (
            found := _untranslated_text(
                path.read_text(encoding="utf-8"), html=path.suffix == ".html"
            )
        )
    }
    assert not faults, f"mark these for translation: {faults}"


def test_the_untranslated_text_check_can_fail():
    assert _untranslated_text("<p>Send report</p>") == ["Send report"]
    assert _untranslated_text('<a aria-label="Close">×</a>') == ["Close"]
    assert _untranslated_text("Open this link:\n{{ link }}", html=False) == ["Open this link:"]
    assert not _untranslated_text(
        '{% load i18n %}<p title="{% translate "Close" %}">{% translate "Send report" %}'
        " · Locus (PDF, 3 ms)</p><pre>area,value</pre>{# a note #}"
        "{% blocktranslate %}Hello {{ name }}{% endblocktranslate %} (incidents.csv) &lt; 1"
    )
