"""Fill msgstr entries of the fr/de/sv catalogs from a JSON file of translations.

Usage: .venv/bin/python bin/fill-translations.py FILE.json
FILE.json: {"fr": {"msgid": "msgstr" | ["singular", "plural"]}, "de": {...}, "sv": {...}}
Entries not in the file are left alone; filled entries lose their fuzzy flag.
"""

import json
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def fill(lang, table):
    path = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
    catalog = polib.pofile(str(path))
    for entry in catalog:
        value = None
        if entry.msgctxt:  # pgettext: keyed "context\u0004msgid", else by msgid alone
            value = table.get(f"{entry.msgctxt}\x04{entry.msgid}")
        if value is None:
            value = table.get(entry.msgid)
        if value is None:
            continue
        if isinstance(value, list):
            entry.msgstr_plural = dict(enumerate(value))
        else:
            entry.msgstr = value
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    catalog.save(str(path))
    catalog.save_as_mofile(str(path.with_suffix(".mo")))
    missing = [e.msgid for e in catalog if not e.obsolete and (not e.translated() or e.fuzzy)]
    print(f"{lang}: {len(missing)} left", *missing[:10], sep="\n  ")


if __name__ == "__main__":
    for lang, table in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")).items():
        fill(lang, table)
