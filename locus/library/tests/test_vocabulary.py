"""The library's controlled vocabularies: versioned data with labels in four languages whose
codes never change meaning."""

import copy
import hashlib
import re
from datetime import date

import pytest

from locus.library import vocabulary as vocab
from locus.library.vocabulary import (
    AXES,
    DATA_DIR,
    LANGUAGES,
    Vocabulary,
    VocabularyError,
    _read,
    available_versions,
    current_version,
    label_in,
    validate_vocabulary,
    version_in_force,
    vocabulary,
)


@pytest.fixture
def data():
    return _read(DATA_DIR / "v1.json")


def test_current_vocabulary_has_every_axis_with_labels_in_four_languages():
    current = vocabulary()
    assert current.version == current_version()
    for axis in AXES:
        assert current.values(axis), axis
        for term in current.values(axis):
            assert all(term.labels[language].strip() for language in LANGUAGES)


def test_labels_fall_back_to_english_and_read_names_back_into_codes():
    current = vocabulary()
    assert current.label("country", "SE", "de") == "Schweden"
    assert current.label("topic", "monitoring_evaluation", "fr") == "Suivi et évaluation"
    assert current.label("topic", "monitoring_evaluation", "fr-CA") == "Suivi et évaluation"
    assert current.label("topic", "monitoring_evaluation", "pt") == "Monitoring and evaluation"
    assert current.find("country", "UK") == "GB"
    assert current.find("country", "Storbritannien") == "GB"
    assert current.find("region", "SE Asia") == "southeast_asia"
    assert current.find("region", "östafrika") == "east_africa"  # case and accents folded
    assert current.find("country", "Atlantis") is None


def test_a_code_no_version_knows_is_shown_as_itself():
    assert label_in("topic", "no_such_topic", "en") == "no_such_topic"
    assert label_in("topic", "gender", "sv", version="1999.1") == "Genus"


def test_validator_accepts_the_shipped_file(data):
    validate_vocabulary(data)


def test_validator_lists_every_problem(data):
    broken = copy.deepcopy(data)
    broken["axes"]["topic"][0]["labels"].pop("sv")
    broken["axes"]["topic"].append(copy.deepcopy(broken["axes"]["topic"][1]))
    broken["axes"]["country"][0]["code"] = "austria"
    broken["axes"]["outcome"][0]["labels"]["en"] = broken["axes"]["outcome"][1]["labels"]["en"]
    with pytest.raises(VocabularyError) as raised:
        validate_vocabulary(broken)
    text = "\n".join(raised.value.errors)
    assert "label in 'sv' is missing" in text
    assert "duplicate code" in text
    assert "'austria' is not valid for 'country'" in text
    assert "is also" in text  # two codes with one name cannot be read back from a CSV


def test_a_removed_code_must_be_retired_and_never_come_back(data):
    newer = copy.deepcopy(data)
    newer["version"] = "2027.1"
    removed = newer["axes"]["topic"].pop()
    with pytest.raises(VocabularyError, match="removed without being listed as retired"):
        validate_vocabulary(newer, previous=[data])
    newer["retired"] = {"topic": [removed["code"]]}
    validate_vocabulary(newer, previous=[data])

    again = copy.deepcopy(data)
    again["version"] = "2028.1"
    with pytest.raises(VocabularyError) as raised:
        validate_vocabulary(again, previous=[data, newer])
    text = "\n".join(raised.value.errors)
    assert "must stay listed under 'retired'" in text
    assert "a retired code cannot come back" in text


def test_an_english_label_changes_only_when_declared_reworded(data):
    newer = copy.deepcopy(data)
    newer["version"] = "2027.1"
    newer["axes"]["topic"][0]["labels"]["en"] = "Hate crime"
    with pytest.raises(VocabularyError, match="English label changed"):
        validate_vocabulary(newer, previous=[data])
    newer["reworded"] = {"topic": [newer["axes"]["topic"][0]["code"]]}
    validate_vocabulary(newer, previous=[data])


# ---------------------------------------------------------------------------------------------
# Versions (docs/library.md "Controlled vocabularies", as docs/taxonomy.md "Versions")

# A published file is never edited: records name its version. Publishing v3 adds its hash here;
# changing a hash is editing history.
PUBLISHED = {
    "v1.json": "64af886cabe28a09a90ba546e858e540b4322ca26d1e8b0dce6a6c35fb794181",
    "v2.json": "f52109878781b150d16d86b92eb87e333a10ba851c8df332d0f4fe69f3600425",
}


def test_published_files_are_never_edited():
    assert sorted(p.name for p in DATA_DIR.glob("v*.json")) == sorted(PUBLISHED)
    for name, digest in PUBLISHED.items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == digest, name


def test_every_version_is_loaded_and_the_newest_is_current():
    assert available_versions() == ["2026.1", "2026.2"]
    assert current_version() == "2026.2"
    assert vocabulary() is vocabulary("2026.2")
    assert vocabulary("2026.1").version == "2026.1"


def _shape(data):
    """Everything but the French, German and Swedish wording: codes in order, aliases, English."""
    return {
        axis: [(v["code"], v["labels"]["en"], v.get("aliases")) for v in values]
        for axis, values in data["axes"].items()
    }, {axis: meta["labels"]["en"] for axis, meta in data["axis_meta"].items()}


def _texts(data, language):
    for values in data["axes"].values():
        for v in values:
            yield v["labels"][language]
    for meta in data["axis_meta"].values():
        yield meta["labels"][language]


def test_2026_2_changes_the_french_and_german_wording_only():
    v1, v2 = _read(DATA_DIR / "v1.json"), _read(DATA_DIR / "v2.json")
    assert _shape(v2) == _shape(v1)
    assert "retired" not in v2 and "reworded" not in v2
    # Swedish was checked and needed nothing: its plurals (forskare, beslutsfattare) are neutral.
    assert list(_texts(v2, "sv")) == list(_texts(v1, "sv"))


# The generic masculine for people, as 2026.1 had it. French prefers epicene words (équipes
# enseignantes, responsables, spécialistes); German neutral words or pair forms (Forschende,
# Verantwortliche, Fachleute), as the app's catalogues and the reporting taxonomy's 2026.2.
GENERIC_MASCULINE = {
    "fr": re.compile(
        r"\b(?:[Cc]hercheurs|[Dd]écideurs|[Ee]nseignants|habitants|[Pp]rofessionnels|"
        r"[Bb]ailleurs|acteurs|d’experts)\b"
    ),
    "de": re.compile(r"\b(?:\w*[Ee]ntscheidungsträger|Geldgeber|Akteuren|Experten\w*)\b"),
}


@pytest.mark.parametrize("language", ["fr", "de"])
def test_people_are_named_inclusively_in_the_current_version(language):
    pattern = GENERIC_MASCULINE[language]
    old = [text for text in _texts(_read(DATA_DIR / "v1.json"), language) if pattern.search(text)]
    assert old  # the check can fail: 2026.1 has them
    now = _read(DATA_DIR / f"v{len(available_versions())}.json")
    assert now["version"] == current_version()
    assert not [text for text in _texts(now, language) if pattern.search(text)]


def test_a_record_of_an_older_version_reads_in_todays_wording():
    assert label_in("target_group", "researchers", "fr", "2026.1") == "Équipes de recherche"
    assert label_in("target_group", "policy_makers", "de", "2026.1") == (
        "Verantwortliche in Politik und Verwaltung"
    )
    assert vocabulary("2026.1").label("target_group", "researchers", "fr") == "Chercheurs"


def test_a_retired_code_reads_in_its_own_version_then_any_older_one(monkeypatch):
    v1 = _read(DATA_DIR / "v1.json")
    v2 = copy.deepcopy(v1)
    v2["version"] = "2027.1"
    v2["axes"]["target_group"] = [
        t for t in v2["axes"]["target_group"] if t["code"] != "researchers"
    ]
    v2["retired"] = {"target_group": ["researchers"]}
    v3 = copy.deepcopy(v2)
    v3["version"] = "2027.2"
    validate_vocabulary(v3, previous=[v1, v2])
    loaded = {d["version"]: Vocabulary(d) for d in (v1, v2, v3)}
    monkeypatch.setattr(vocab, "_versions", lambda: (loaded, "2027.2"))
    assert label_in("target_group", "researchers", "en", "2027.1") == "Researchers"
    assert label_in("target_group", "researchers", "fr", None) == "Chercheurs"
    assert label_in("target_group", "police", "sv", "2026.1") == "Polis"


def test_names_of_older_versions_still_read_back_into_codes():
    """A CSV written with 2026.1's wording imports: its labels are names of the same codes."""
    current = vocabulary()
    assert current.find("target_group", "Chercheurs") == "researchers"
    assert current.find("target_group", "Politische Entscheidungsträger") == "policy_makers"
    assert current.find("target_group", "Équipes de recherche") == "researchers"
    assert vocabulary("2026.1").find("target_group", "Équipes de recherche") is None


# ---------------------------------------------------------------------------------------------
# `released`: the day a version takes effect (docs/library.md, "Versions")


def test_released_is_the_day_a_version_takes_effect():
    assert vocabulary("2026.1").released == vocabulary("2026.2").released == date(2026, 12, 1)
    # Both dated the library's opening: 2026.2 replaced 2026.1 before it took effect.
    assert version_in_force(date(2026, 12, 1)) == "2026.2"
    assert version_in_force(date(2031, 1, 1)) == "2026.2"
    # Before the opening (the demo, the first imports): the version it opens with.
    assert version_in_force(date(2026, 11, 29)) == "2026.2"


def later_version(monkeypatch, released):
    """A 2027.1 dated `released`, after the published files, with one new topic."""
    v1, v2 = _read(DATA_DIR / "v1.json"), _read(DATA_DIR / "v2.json")
    v3 = copy.deepcopy(v2)
    v3["version"], v3["released"] = "2027.1", released
    labels = {"en": "Sport", "fr": "Sport", "de": "Sport", "sv": "Idrott"}
    v3["axes"]["topic"].append({"code": "sport", "labels": labels})
    validate_vocabulary(v3, previous=[v1, v2])
    loaded = {d["version"]: Vocabulary(d) for d in (v1, v2, v3)}
    monkeypatch.setattr(vocab, "_versions", lambda: (loaded, "2027.1"))


def on_day(monkeypatch, day):
    monkeypatch.setattr(vocab.timezone, "localdate", lambda *args, **kwargs: day)


def test_a_version_dated_later_takes_effect_on_its_day(monkeypatch):
    later_version(monkeypatch, "2027-01-01")
    assert available_versions() == ["2026.1", "2026.2", "2027.1"]
    assert version_in_force(date(2026, 12, 31)) == "2026.2"
    assert version_in_force(date(2027, 1, 1)) == "2027.1"
    on_day(monkeypatch, date(2026, 12, 31))
    assert current_version() == "2026.2"
    assert not vocabulary().has("topic", "sport")  # forms do not offer it yet
    assert vocabulary("2027.1").has("topic", "sport")  # but it is loaded and readable
    on_day(monkeypatch, date(2027, 1, 1))
    assert current_version() == "2027.1" and vocabulary().has("topic", "sport")


def test_released_is_a_day_never_before_the_previous_versions(data):
    for bad in ("2026-13-01", "1 December 2026", None):
        broken = copy.deepcopy(data)
        broken["released"] = bad
        with pytest.raises(VocabularyError, match="must be the day the version takes effect"):
            validate_vocabulary(broken)
    missing = copy.deepcopy(data)
    del missing["released"]
    with pytest.raises(VocabularyError, match="missing top-level key 'released'"):
        validate_vocabulary(missing)
    earlier = copy.deepcopy(data)
    earlier["version"], earlier["released"] = "2027.1", "2026-11-30"
    with pytest.raises(VocabularyError, match="cannot take effect before the one it follows"):
        validate_vocabulary(earlier, previous=[data])
