"""The directory's vocabulary files: only the newest is read, so it must keep every code an
older file published (services store plain codes)."""

import json

import pytest

from locus.directory import vocabulary as vocab
from locus.reporting.taxonomy import taxonomy


def _files():
    return sorted(
        (int(m.group(1)), path)
        for path in vocab.DATA_DIR.iterdir()
        if (m := vocab._FILE_RE.match(path.name))
    )


def _raw(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_newest_file_is_read():
    number, path = _files()[-1]
    assert number >= 2
    assert vocab.vocabulary().version == _raw(path)["version"] == "2026.2"


@pytest.mark.parametrize("axis", vocab.AXES)
def test_the_newest_file_keeps_every_published_code_and_its_flags(axis):
    newest = _raw(_files()[-1][1])["axes"][axis]
    now = {item["code"]: item for item in newest}
    for _number, path in _files()[:-1]:
        for item in _raw(path)["axes"][axis]:
            assert item["code"] in now, (path.name, item["code"])
            kept = now[item["code"]]
            assert kept["labels"]["en"] == item["labels"]["en"], item["code"]
            assert kept.get("support") == item.get("support"), item["code"]
            assert kept.get("bias") == item.get("bias"), item["code"]


def test_target_groups_name_bias_codes_of_the_current_taxonomy():
    t = taxonomy()
    for term in vocab.vocabulary().terms("target_group"):
        assert all(code == "*" or t.has("bias", code) for code in term.bias), term.code


def test_people_are_named_inclusively():
    words = vocab.vocabulary()
    assert (
        words.label("target_group", "practitioners", "fr") == "Équipes professionnelles de terrain"
    )
    assert words.label("target_group", "schools", "fr") == "Équipes enseignantes et écoles"
    assert words.label("service_type", "practitioner_training", "fr") == (
        "Formation des équipes professionnelles"
    )
    assert words.label("service_type", "third_party_reporting", "de") == "Unabhängige Meldestelle"
