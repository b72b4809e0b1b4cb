"""The library's controlled vocabularies: versioned data with labels in four languages whose
codes never change meaning."""

import copy

import pytest

from locus.library.vocabulary import (
    AXES,
    DATA_DIR,
    LANGUAGES,
    VocabularyError,
    _read,
    current_version,
    label_in,
    validate_vocabulary,
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
