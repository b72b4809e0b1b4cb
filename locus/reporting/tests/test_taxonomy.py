"""The cross-country taxonomy: the data is sound, the validator catches each broken rule, the
mappings say what the national schemes say, and the API behaves as documented."""

import copy
import hashlib
import json
import re
from datetime import date

import pytest
from django.apps import apps
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from locus.reporting import taxonomy as tx
from locus.reporting.taxonomy import (
    CURRENT_VERSION,
    INDENT,
    LANGUAGES,
    TaxonomyError,
    UnknownCode,
    UnknownScheme,
    UnknownVersion,
    available_versions,
    taxonomy,
    validate_taxonomy,
)

V1 = tx.DATA_DIR / "v1.json"
SCHEMES = ("uk_strands", "osce_odihr", "de_pmk", "se_bra", "fr")


def load_v1():
    return json.loads(V1.read_text(encoding="utf-8"))


@pytest.fixture
def data():
    return load_v1()


def value(data, axis, code):
    return next(v for v in data["axes"][axis] if v["code"] == code)


def scheme_value(data, scheme, code):
    return next(v for v in data["schemes"][scheme]["values"] if v["code"] == code)


# ---------------------------------------------------------------------------------------------
# The data and the app


def test_current_version_is_valid_and_loaded():
    validate_taxonomy(load_v1())
    t = taxonomy()
    assert t.version == CURRENT_VERSION == "2026.2"
    assert available_versions() == ["2026.1", "2026.2"]
    assert taxonomy() is taxonomy(CURRENT_VERSION) is taxonomy(None)
    assert taxonomy("2026.1").version == "2026.1"


# A published file is never edited (docs/taxonomy.md "Versions"): records name its version and
# are read with it. Publishing v3 adds its hash here; changing a hash is editing history.
PUBLISHED = {
    "v1.json": "acf0e297b8eed8a97b572632cee428a98144f2cd13e3659e72012192a3a1fdf8",
    "v2.json": "a14cb936ae46ce741d71660c0f2795ccdde17996618c0f6413cd8eb3180fec63",
}


def test_published_files_are_never_edited():
    files = sorted(p.name for p in tx.DATA_DIR.glob("v*.json"))
    assert files == sorted(PUBLISHED)
    for name, digest in PUBLISHED.items():
        assert hashlib.sha256((tx.DATA_DIR / name).read_bytes()).hexdigest() == digest, name


def _shape(data):
    """Everything but the wording: codes in order, parents, flags, mappings, scheme trees."""
    axes = {
        axis: [
            {k: v for k, v in value.items() if k not in ("labels", "description")}
            for value in values
        ]
        for axis, values in data["axes"].items()
    }
    schemes = {
        name: [(v["code"], v.get("parent"), v["source_label"]) for v in scheme["values"]]
        for name, scheme in data["schemes"].items()
    }
    meta = {
        axis: {k: v for k, v in m.items() if k != "labels"} for axis, m in data["axis_meta"].items()
    }
    return axes, schemes, meta, data["sources"]


def _english(data):
    texts = {}
    for axis, values in data["axes"].items():
        for v in values:
            texts[axis, v["code"]] = (v["labels"]["en"], (v.get("description") or {}).get("en"))
    for name, scheme in data["schemes"].items():
        texts[name, None] = scheme["labels"]["en"]
        for v in scheme["values"]:
            texts[name, v["code"]] = v["labels"]["en"]
    return texts


def test_2026_2_changes_the_wording_only():
    """2026.2 rewords French, German and Swedish; codes, meanings, flags, mappings and the
    English text are 2026.1's, so records of both versions count together."""
    v1 = tx._raw(1)
    v2 = tx._raw(2)
    assert _shape(v2) == _shape(v1)
    assert _english(v2) == _english(v1)
    assert "retired" not in v2 and "reworded" not in v2


def _texts(data, language):
    for values in data["axes"].values():
        for v in values:
            yield v["labels"][language]
            if v.get("description"):
                yield v["description"][language]
    for scheme in data["schemes"].values():
        yield scheme["labels"][language]
        for v in scheme["values"]:
            yield v["labels"][language]
    for meta in data["axis_meta"].values():
        yield meta["labels"][language]


# The generic masculine for people, as 2026.1 had it. French prefers epicene words ("les
# personnes musulmanes", "le voisinage"); German neutral words or pair forms, as the catalogue.
GENERIC_MASCULINE = {
    "fr": re.compile(
        r"\b(?:anti-Noirs|musulmans|chrétiens|voisins|clients|usagers|étrangers|"
        r"Quelqu’un a été|Être traité|personne n’ait été)\b"
    ),
    "de": re.compile(r"\b(?:Nachbarn|seiner Identität|gegenüber Sinti und Roma)\b"),
}


@pytest.mark.parametrize("language", ["fr", "de"])
def test_people_are_named_inclusively_in_the_current_version(language):
    pattern = GENERIC_MASCULINE[language]
    old = [text for text in _texts(tx._raw(1), language) if pattern.search(text)]
    assert old  # the check can fail: 2026.1 has them
    now = list(_texts(tx._raw(_number(CURRENT_VERSION)), language))
    assert not [text for text in now if pattern.search(text)]


def _number(version):
    return tx._index()[version]


def test_app_is_installed():
    config = apps.get_app_config("reporting")
    assert config.name == "locus.reporting"


def test_languages_are_the_interface_languages():
    assert tuple(code for code, _ in settings.LANGUAGES) == LANGUAGES


def test_the_five_schemes_and_the_axes_are_there():
    t = taxonomy()
    assert tuple(t.schemes) == SCHEMES
    for axis in tx.AXES:
        assert t.axis(axis), axis


def test_every_source_is_cited_with_a_web_address(data):
    used = {s["used_for"] for s in data["sources"]}
    assert set(SCHEMES) <= used
    assert "incident_type" in used
    assert all(s["url"].startswith("https://") for s in data["sources"])


FORBIDDEN = re.compile(r"suspect|radical|verdächtig|radikal|misstänkt", re.IGNORECASE)


def test_wording_is_civic_not_securitised():
    t = taxonomy()
    texts = []
    for axis in tx.AXES:
        for v in t.axis(axis):
            texts += list(v.labels.values()) + list((v.description or {}).values())
    offending = [text for text in texts if FORBIDDEN.search(text)]
    assert not offending


# ---------------------------------------------------------------------------------------------
# The validator: each rule fails on a crafted broken copy


def _dup_code(d):
    d["axes"]["setting"].append(copy.deepcopy(d["axes"]["setting"][0]))


def _bad_code(d):
    value(d, "setting", "street")["code"] = "Street-Corner"


def _missing_parent(d):
    value(d, "bias", "anti_black")["parent"] = "racism"


def _grandchild(d):
    value(d, "bias", "anti_roma_sinti")["parent"] = "anti_black"


def _child_away_from_parent(d):
    bias = d["axes"]["bias"]
    child = bias.pop(1)
    bias.append(child)


def _visible_child_of_hidden_parent(d):
    value(d, "bias", "racism_xenophobia")["reporter_visible"] = False


def _missing_scheme_mapping(d):
    del value(d, "bias", "disability")["mappings"]["se_bra"]


def _unknown_scheme_mapping(d):
    value(d, "bias", "disability")["mappings"]["no_kripos"] = []


def _undeclared_scheme_code(d):
    value(d, "bias", "antisemitism")["mappings"]["de_pmk"] = ["judenfeindlich"]


def _mapping_not_a_list(d):
    value(d, "bias", "antisemitism")["mappings"]["fr"] = "antisemite"


def _empty_label(d):
    value(d, "incident_type", "threat")["labels"]["sv"] = "  "


def _missing_language(d):
    del value(d, "setting", "workplace")["labels"]["de"]


def _empty_description(d):
    value(d, "bias", "gender")["description"]["fr"] = ""


def _missing_description(d):
    del value(d, "setting", "online")["description"]


def _empty_scheme_value_label(d):
    scheme_value(d, "se_bra", "afrofobiska")["labels"]["en"] = ""


def _empty_scheme_label(d):
    d["schemes"]["uk_strands"]["labels"]["fr"] = ""


def _empty_axis_label(d):
    d["axis_meta"]["bias"]["labels"]["de"] = ""


def _visible_ideology(d):
    value(d, "ideology", "far_right")["reporter_visible"] = True


def _ideology_not_staff_only(d):
    del d["axis_meta"]["ideology"]["staff_only"]


def _typo_in_a_key(d):
    v = value(d, "incident_type", "assault")
    v["reporter_visble"] = v.pop("reporter_visible")


def _missing_flag(d):
    del value(d, "incident_type", "assault")["counts_as_hate"]


def _flag_not_boolean(d):
    value(d, "incident_type", "assault")["online"] = "no"


def _hate_if_bias_on_a_hate_type(d):
    value(d, "incident_type", "assault")["hate_if_bias"] = True


def _hate_type_without_bias(d):
    value(d, "incident_type", "threat")["requires_bias"] = False


def _unknown_route_hint(d):
    value(d, "incident_type", "terrorist_extremist_content")["route_hint"] = "intelligence"


def _platform_on_offline_setting(d):
    value(d, "setting", "street")["asks_platform"] = True


def _scheme_parent_missing(d):
    scheme_value(d, "se_bra", "afrofobiska")["parent"] = "rasistiska"


def _scheme_cycle(d):
    scheme_value(d, "fr", "raciste_xenophobe_antireligieux")["parent"] = "antisemite"


def _scheme_duplicate(d):
    values = d["schemes"]["osce_odihr"]["values"]
    values.append(copy.deepcopy(values[0]))


def _scheme_without_source_label(d):
    del scheme_value(d, "de_pmk", "rassismus")["source_label"]


def _unknown_source(d):
    d["schemes"]["fr"]["sources"].append("le_monde")


def _source_without_url(d):
    d["sources"][0]["url"] = "gov.uk"


def _missing_axis(d):
    del d["axes"]["platform"]


def _unknown_axis(d):
    d["axes"]["mood"] = copy.deepcopy(d["axes"]["legal_status"])


def _bad_version(d):
    d["version"] = "v1"


def _platform_domain_twice(d):
    value(d, "platform", "instagram")["domains"].append("facebook.com")


def _not_sure_as_sub_value(d):
    bias = d["axes"]["bias"]
    not_sure = value(d, "bias", "not_sure")
    bias.remove(not_sure)
    not_sure["parent"] = "racism_xenophobia"
    bias.insert(4, not_sure)


BROKEN = {
    "duplicate code": (_dup_code, "duplicate code 'street'"),
    "code not snake_case": (_bad_code, "must be snake_case"),
    "parent does not exist": (_missing_parent, "parent 'racism' does not exist"),
    "two levels deep": (_grandchild, "one level deep"),
    "sub-value away from parent": (_child_away_from_parent, "right after their parent"),
    "visible child, hidden parent": (_visible_child_of_hidden_parent, "its parent is not"),
    "scheme not mapped": (_missing_scheme_mapping, "no mapping for scheme 'se_bra'"),
    "unknown scheme mapped": (_unknown_scheme_mapping, "unknown scheme 'no_kripos'"),
    "undeclared scheme code": (_undeclared_scheme_code, "'judenfeindlich' is not declared"),
    "mapping not a list": (_mapping_not_a_list, "must be a list of codes"),
    "empty label": (_empty_label, "threat: labels in 'sv' is missing or empty"),
    "missing language": (_missing_language, "workplace: labels in 'de' is missing"),
    "empty description": (_empty_description, "gender: description in 'fr'"),
    "missing description": (_missing_description, "online: a reporter-facing value needs"),
    "empty scheme value label": (_empty_scheme_value_label, "afrofobiska: labels in 'en'"),
    "empty scheme label": (_empty_scheme_label, "schemes.uk_strands: labels in 'fr'"),
    "empty axis label": (_empty_axis_label, "axis_meta.bias: labels in 'de'"),
    "ideology shown to reporters": (_visible_ideology, "ideology is staff-only"),
    "ideology axis not staff-only": (_ideology_not_staff_only, "must say so"),
    "typo in a key": (_typo_in_a_key, "unknown key 'reporter_visble'"),
    "flag missing": (_missing_flag, "assault: counts_as_hate is missing"),
    "flag not boolean": (_flag_not_boolean, "online must be true or false"),
    "hate_if_bias on a hate type": (_hate_if_bias_on_a_hate_type, "hate_if_bias only applies"),
    "hate type without bias": (_hate_type_without_bias, "must ask for the bias"),
    "unknown route hint": (_unknown_route_hint, "unknown route_hint 'intelligence'"),
    "platform asked offline": (_platform_on_offline_setting, "only an online setting"),
    "scheme parent missing": (_scheme_parent_missing, "parent 'rasistiska' does not exist"),
    "scheme parents cycle": (_scheme_cycle, "cycle"),
    "scheme duplicate code": (_scheme_duplicate, "duplicate code 'racist_xenophobic'"),
    "scheme value without source term": (_scheme_without_source_label, "source_label"),
    "unknown source cited": (_unknown_source, "source 'le_monde' is not in the sources"),
    "source without web address": (_source_without_url, "is not a web address"),
    "axis missing": (_missing_axis, "missing axis 'platform'"),
    "unknown axis": (_unknown_axis, "unknown axis 'mood'"),
    "bad version": (_bad_version, "must look like"),
    "domain claimed twice": (_platform_domain_twice, "'facebook.com' belongs to 'facebook'"),
    "not sure as a sub-value": (_not_sure_as_sub_value, "cannot be a sub-value"),
}


@pytest.mark.parametrize("breakage", BROKEN.values(), ids=list(BROKEN))
def test_validator_rejects_each_broken_rule(data, breakage):
    mutate, message = breakage
    mutate(data)
    with pytest.raises(TaxonomyError) as caught:
        validate_taxonomy(data)
    assert any(message in error for error in caught.value.errors), caught.value.errors


def test_validator_reports_every_problem_at_once(data):
    _empty_label(data)
    _missing_scheme_mapping(data)
    _visible_ideology(data)
    with pytest.raises(TaxonomyError) as caught:
        validate_taxonomy(data)
    assert len(caught.value.errors) == 3


def test_validator_survives_nonsense():
    for nonsense in ([], {"version": "2026.1"}, {"axes": 3}):
        with pytest.raises(TaxonomyError):
            validate_taxonomy(nonsense)
    broken = load_v1()
    broken["axes"]["bias"] = [{"code": "x"}, "y", {"labels": None}]
    broken["schemes"]["fr"] = {"values": None}
    with pytest.raises(TaxonomyError):
        validate_taxonomy(broken)


# Across versions: codes are never reused with another meaning.


def next_version(data):
    newer = copy.deepcopy(data)
    newer["version"] = "2026.2"
    return newer


def test_a_new_version_that_keeps_its_codes_passes(data):
    newer = next_version(data)
    newer["axes"]["platform"].insert(
        -2,
        {
            "code": "bluesky",
            "labels": dict.fromkeys(LANGUAGES, "Bluesky"),
            "reporter_visible": True,
            "domains": ["bsky.app"],
        },
    )
    validate_taxonomy(newer, previous=[data])


def test_a_code_cannot_change_meaning(data):
    newer = next_version(data)
    value(newer, "setting", "workplace")["labels"]["en"] = "Job centre"
    with pytest.raises(TaxonomyError, match="English label changed"):
        validate_taxonomy(newer, previous=[data])
    # Same meaning, better words: declare it.
    newer["reworded"] = {"setting": ["workplace"]}
    validate_taxonomy(newer, previous=[data])


def test_a_code_cannot_change_parent(data):
    newer = next_version(data)
    value(newer, "bias", "anti_indigenous")["parent"] = None
    bias = newer["axes"]["bias"]
    bias.append(bias.pop(bias.index(value(newer, "bias", "anti_indigenous"))))
    with pytest.raises(TaxonomyError, match="changed parent"):
        validate_taxonomy(newer, previous=[data])


def test_a_removed_code_is_retired_and_never_comes_back(data):
    newer = next_version(data)
    newer["axes"]["platform"].remove(value(newer, "platform", "snapchat"))
    with pytest.raises(TaxonomyError, match="removed without being listed"):
        validate_taxonomy(newer, previous=[data])
    newer["retired"] = {"platform": ["snapchat"]}
    validate_taxonomy(newer, previous=[data])

    newest = copy.deepcopy(data)  # snapchat is back, even with its old meaning
    newest["version"] = "2027.1"
    with pytest.raises(TaxonomyError, match="retired and cannot be reused"):
        validate_taxonomy(newest, previous=[data, newer])


def test_retired_list_cannot_name_a_live_code(data):
    newer = next_version(data)
    newer["retired"] = {"bias": ["gender"]}
    with pytest.raises(TaxonomyError, match="still in use"):
        validate_taxonomy(newer, previous=[data])


def test_scheme_codes_are_held_to_the_same_rule(data):
    newer = next_version(data)
    scheme_value(newer, "de_pmk", "rassismus")["labels"]["en"] = "Xenophobia"
    with pytest.raises(TaxonomyError, match="schemes.de_pmk.rassismus"):
        validate_taxonomy(newer, previous=[data])


def test_a_version_string_is_used_once(data):
    with pytest.raises(TaxonomyError, match="already taken"):
        validate_taxonomy(copy.deepcopy(data), previous=[data])


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Point the loader at a scratch directory; the caches are emptied before and after."""

    def clear():
        for function in (tx._files, tx._raw, tx._index, tx._load):
            function.cache_clear()

    monkeypatch.setattr(tx, "DATA_DIR", tmp_path)
    clear()
    yield tmp_path
    monkeypatch.undo()
    clear()


def test_old_versions_stay_loadable(data_dir, data):
    newer = next_version(data)
    value(newer, "bias", "other")["labels"]["en"] = "Another reason"
    newer["reworded"] = {"bias": ["other"]}
    (data_dir / "v1.json").write_text(json.dumps(data), encoding="utf-8")
    (data_dir / "v2.json").write_text(json.dumps(newer), encoding="utf-8")
    assert available_versions() == ["2026.1", "2026.2"]
    assert taxonomy("2026.1").label("bias", "other", "en") == "Something else"
    assert taxonomy("2026.2").label("bias", "other", "en") == "Another reason"
    with pytest.raises(UnknownVersion):
        taxonomy("2025.9")


def test_a_stored_code_is_shown_in_todays_words_and_a_retired_one_in_its_own(
    data_dir, data, monkeypatch
):
    newer = next_version(data)
    value(newer, "setting", "online")["labels"]["fr"] = "Sur Internet"
    newer["axes"]["platform"].remove(value(newer, "platform", "snapchat"))
    newer["retired"] = {"platform": ["snapchat"]}
    (data_dir / "v1.json").write_text(json.dumps(data), encoding="utf-8")
    (data_dir / "v2.json").write_text(json.dumps(newer), encoding="utf-8")
    monkeypatch.setattr(tx, "CURRENT_VERSION", "2026.2")
    # An old record: the code still exists, so today's (better) wording.
    assert tx.display_label("setting", "online", "fr", "2026.1") == "Sur Internet"
    # A retired code: read in the record's version, or any version that knew it.
    assert tx.display_label("platform", "snapchat", "fr", "2026.1") == "Snapchat"
    assert tx.display_label("platform", "snapchat", "fr", "1999.1") == "Snapchat"
    assert tx.display_label("platform", "myspace", "fr", "2026.1") == "myspace"
    assert tx.display_label("platform", "", "fr", "2026.1") == ""


def test_the_version_in_force_on_a_day():
    assert tx.version_in_force(date(2026, 11, 28)) == "2026.1"
    assert tx.version_in_force(date(2026, 11, 29)) == "2026.2" == CURRENT_VERSION
    assert tx.version_in_force(date(2020, 1, 1)) == "2026.1"  # before any: the oldest
    assert tx.version_in_force(date(2031, 1, 1)) == CURRENT_VERSION


def test_the_current_version_is_in_force_today():
    """`released` is the day a version takes effect (docs/taxonomy.md, "Versions"), and new
    reports get CURRENT_VERSION, the newest file: a file dated in the future would stamp
    reports with a version not yet in force."""
    from django.utils import timezone

    assert tx.version_in_force(timezone.localdate()) == CURRENT_VERSION


def test_an_old_record_reads_in_todays_inclusive_wording():
    assert tx.display_label("bias", "anti_black", "fr", "2026.1") == (
        "Racisme envers les personnes noires"
    )
    assert taxonomy("2026.1").label("bias", "anti_black", "fr") == "Racisme anti-Noirs"


def test_a_broken_new_version_does_not_load_but_the_old_one_does(data_dir, data):
    newer = next_version(data)
    value(newer, "bias", "other")["labels"]["en"] = "Football club"
    (data_dir / "v1.json").write_text(json.dumps(data), encoding="utf-8")
    (data_dir / "v2.json").write_text(json.dumps(newer), encoding="utf-8")
    assert taxonomy("2026.1").version == "2026.1"
    with pytest.raises(TaxonomyError, match="English label changed"):
        taxonomy("2026.2")


# ---------------------------------------------------------------------------------------------
# Mappings say what the schemes say


@pytest.mark.parametrize(
    ("bias", "scheme", "expected"),
    [
        ("antisemitism", "uk_strands", "religion"),
        ("antisemitism", "osce_odihr", "anti_semitic"),
        ("antisemitism", "de_pmk", "antisemitisch"),
        ("antisemitism", "se_bra", "antisemitiska"),
        ("antisemitism", "fr", "antisemite"),
        ("anti_muslim", "de_pmk", "islamfeindlich"),
        ("anti_muslim", "se_bra", "islamofobiska"),
        ("sexual_orientation", "uk_strands", "sexual_orientation"),
        ("sexual_orientation", "osce_odihr", "anti_lgbti"),
        ("gender_identity", "uk_strands", "transgender_identity"),
        ("gender_identity", "de_pmk", "geschlechtsbezogene_diversitaet"),
        ("gender_identity", "se_bra", "transfobiska"),
        ("gender_identity", "fr", "anti_lgbt"),
        ("anti_roma_sinti", "de_pmk", "antiziganistisch"),
        ("anti_roma_sinti", "osce_odihr", "anti_roma"),
        ("anti_indigenous", "se_bra", "mot_samer"),
        ("anti_black", "se_bra", "afrofobiska"),
        ("disability", "uk_strands", "disability"),
        ("social_status", "de_pmk", "gesellschaftlicher_status"),
        ("gender", "osce_odihr", "gender_based"),
        ("gender", "de_pmk", "frauenfeindlich"),
    ],
)
def test_bias_maps_to_the_scheme_category(bias, scheme, expected):
    assert expected in taxonomy().map_bias([bias], scheme)


def test_scheme_labels_use_the_source_terms():
    t = taxonomy()
    assert t.scheme("uk_strands").get("transgender_identity").source_label == (
        "Transgender identity"
    )
    assert t.scheme("fr").get("antisemite").label("fr") == "Antisémite"
    assert t.scheme("se_bra").get("antisemitiska").source_label == "Antisemitiska hatbrott"
    assert t.scheme_label("de_pmk", "antisemitisch", "de") == "Antisemitisch"


def test_not_counted_where_a_scheme_has_no_such_category():
    t = taxonomy()
    assert t.map_bias(["gender"], "uk_strands") == frozenset()  # not a monitored strand
    assert t.map_bias(["disability"], "se_bra") == frozenset()  # not in Swedish hate crime law
    assert t.map_bias(["social_status"], "fr") == frozenset()


def test_not_sure_maps_only_to_unspecified_hate_crime():
    t = taxonomy()
    assert t.map_bias(["not_sure"], "se_bra") == {"ospecificerade"}
    for scheme in ("uk_strands", "osce_odihr", "de_pmk", "fr"):
        assert t.map_bias(["not_sure"], scheme) == frozenset()


def test_every_bias_value_maps_every_scheme_explicitly(data):
    for v in data["axes"]["bias"]:
        assert set(v["mappings"]) == set(SCHEMES), v["code"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_sub_value_counts_as_its_parent(scheme):
    t = taxonomy()
    for sub in ("anti_black", "anti_roma_sinti", "anti_indigenous"):
        assert t.get("bias", sub).parent == "racism_xenophobia"
        assert t.map_bias([sub], scheme) >= t.map_bias(["racism_xenophobia"], scheme)


def test_anti_roma_sinti_carries_its_parents_mappings_in_every_scheme():
    t = taxonomy()
    assert t.map_bias(["anti_roma_sinti"], "uk_strands") == {"race"}
    assert t.map_bias(["anti_roma_sinti"], "fr") >= {"raciste_xenophobe"}
    assert t.map_bias(["anti_roma_sinti"], "de_pmk") == {
        "antiziganistisch",
        "rassismus",
        "fremdenfeindlich",
    }
    assert t.map_bias(["anti_roma_sinti"], "se_bra") == {
        "antiziganistiska",
        "framlingsfientliga_rasistiska",
    }


def test_nested_scheme_categories_count_upwards():
    t = taxonomy()
    assert t.map_bias(["antisemitism"], "fr") == {
        "antisemite",
        "antireligieux",
        "raciste_xenophobe_antireligieux",
    }
    assert t.map_bias(["sexual_orientation"], "se_bra") == {"homofobiska", "hbtqi"}


def test_map_bias_takes_one_code_or_many_and_rejects_unknowns():
    t = taxonomy()
    assert t.map_bias("antisemitism", "fr") == t.map_bias(["antisemitism"], "fr")
    assert t.map_bias([], "fr") == frozenset()
    with pytest.raises(UnknownCode):
        t.map_bias(["antisemitic"], "fr")
    with pytest.raises(UnknownScheme):
        t.map_bias(["antisemitism"], "no_kripos")


BIAS_CODES = [v.code for v in taxonomy().axis("bias")]


@given(codes=st.sets(st.sampled_from(BIAS_CODES)), scheme=st.sampled_from(SCHEMES))
def test_map_bias_returns_only_declared_scheme_codes(codes, scheme):
    t = taxonomy()
    mapped = t.map_bias(codes, scheme)
    assert mapped <= {v.code for v in t.scheme(scheme).values}
    # Counting is per code: the union of the parts is the whole.
    assert mapped == frozenset().union(*(t.map_bias([c], scheme) for c in codes))


@given(
    codes=st.sets(st.sampled_from(BIAS_CODES)),
    more=st.sets(st.sampled_from(BIAS_CODES)),
    kind=st.sampled_from([v.code for v in taxonomy().axis("incident_type")]),
)
def test_more_bias_never_takes_a_record_out_of_the_hate_counts(codes, more, kind):
    t = taxonomy()
    if t.counts_as_hate(kind, codes):
        assert t.counts_as_hate(kind, codes | more)


# ---------------------------------------------------------------------------------------------
# Rules: what counts as hate, TVEC, online


def test_ideology_is_never_shown_to_reporters():
    t = taxonomy()
    assert t.is_staff_only("ideology")
    assert all(not v.reporter_visible for v in t.axis("ideology"))
    assert t.axis("ideology", reporter=True) == []
    assert t.choices("ideology", "en", reporter=True) == []
    assert [v.code for v in t.axis("ideology")] == [
        "far_right",
        "far_left",
        "religiously_motivated",
        "conspiracy_driven",
        "single_issue",
        "other",
        "unknown",
    ]


def test_terrorist_extremist_content_needs_no_bias_and_goes_to_a_ct_referral_unit():
    t = taxonomy()
    tvec = t.get("incident_type", "terrorist_extremist_content")
    assert not tvec.requires_bias
    assert tvec.route_hint == "ct_referral_unit"
    assert tvec.online and t.is_online("terrorist_extremist_content")
    assert not t.counts_as_hate("terrorist_extremist_content", [])
    assert not t.counts_as_hate("terrorist_extremist_content", ["not_sure"])
    assert t.counts_as_hate("terrorist_extremist_content", ["antisemitism"])


def test_suspicious_activity_is_kept_out_of_hate_counts():
    t = taxonomy()
    assert not t.get("incident_type", "suspicious_activity").requires_bias
    for bias in ([], ["antisemitism"], ["anti_muslim", "not_sure"]):
        assert not t.counts_as_hate("suspicious_activity", bias)


def test_disinformation_asks_which_community_but_is_counted_on_its_own():
    t = taxonomy()
    disinformation = t.get("incident_type", "disinformation")
    assert disinformation.requires_bias and disinformation.online
    assert not t.counts_as_hate("disinformation", ["anti_roma_sinti"])


def test_hate_types_count_with_any_bias_answer_and_not_without():
    t = taxonomy()
    hate_types = [v.code for v in t.axis("incident_type") if v.counts_as_hate]
    assert hate_types == [
        "extreme_violence",
        "assault",
        "damage_desecration",
        "threat",
        "abusive_behaviour",
        "literature_propaganda",
        "discrimination",
        "online_content",
    ]
    for kind in hate_types:
        assert t.get("incident_type", kind).requires_bias
        assert not t.counts_as_hate(kind, [])
        assert t.counts_as_hate(kind, ["disability"])
        assert t.counts_as_hate(kind, ["not_sure"])


def test_counts_as_hate_rejects_unknown_codes():
    with pytest.raises(UnknownCode):
        taxonomy().counts_as_hate("riot", ["antisemitism"])
    with pytest.raises(UnknownCode):
        taxonomy().counts_as_hate("assault", ["antisemitic"])


@pytest.mark.parametrize(
    ("incident_type", "setting", "online"),
    [
        ("online_content", None, True),
        ("disinformation", "street", True),
        ("abusive_behaviour", "online", True),
        ("abusive_behaviour", "street", False),
        ("assault", None, False),
        (None, "online", True),
        (None, "place_of_worship", False),
        (None, None, False),
    ],
)
def test_is_online(incident_type, setting, online):
    assert taxonomy().is_online(incident_type, setting) is online


def test_online_setting_asks_for_a_platform():
    t = taxonomy()
    assert [v.code for v in t.axis("setting") if v.asks_platform] == ["online"]
    assert [v.code for v in t.axis("platform")][-2:] == ["other_website", "other"]


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://www.facebook.com/some.page/posts/1", "facebook"),
        ("https://m.youtube.com/watch?v=abc", "youtube"),
        ("youtu.be/abc", "youtube"),
        ("https://x.com/someone/status/1", "x_twitter"),
        ("https://twitter.com/someone", "x_twitter"),
        ("https://t.me/channel/42", "telegram"),
        ("https://discord.gg/invite", "discord"),
        ("https://old.reddit.com/r/x", "reddit"),
        ("https://notfacebook.com/", None),
        ("https://example.org/page", None),
        ("", None),
        ("http://[::1", None),
    ],
)
def test_platform_for_url(url, platform):
    assert taxonomy().platform_for_url(url) == platform


def test_police_report_asks_for_its_reference():
    t = taxonomy()
    assert t.get("already_reported", "police").asks_reference
    assert {v.code for v in t.axis("legal_status")} == {"possible_crime", "non_crime", "unknown"}


# ---------------------------------------------------------------------------------------------
# Labels and choices


@pytest.mark.parametrize("language", LANGUAGES)
def test_choices_in_each_language(language):
    t = taxonomy()
    for axis in tx.AXES:
        choices = t.choices(axis, language)
        assert [code for code, _ in choices] == [v.code for v in t.axis(axis)]
        assert all(label.strip() for _, label in choices)
    bias = dict(t.choices("bias", language, reporter=True))
    assert bias["anti_black"].startswith(INDENT)
    assert not bias["racism_xenophobia"].startswith(INDENT)
    assert bias["antisemitism"] == t.label("bias", "antisemitism", language)
    assert bias["anti_roma_sinti"] == INDENT + t.label("bias", "anti_roma_sinti", language)


def test_choices_are_translated():
    t = taxonomy()
    assert t.label("bias", "racism_xenophobia", "fr") == "Racisme ou xénophobie"
    assert t.label("bias", "racism_xenophobia", "de") == "Rassismus oder Fremdenfeindlichkeit"
    assert t.label("bias", "racism_xenophobia", "sv") == "Rasism eller främlingsfientlighet"
    english = dict(t.choices("incident_type", "en"))
    for language in ("fr", "de", "sv"):
        translated = dict(t.choices("incident_type", language))
        differing = [code for code in english if translated[code] != english[code]]
        assert len(differing) >= len(english) - 1  # "Discrimination" is the same in French


def test_grouped_choices_keep_the_parent_selectable():
    choices = taxonomy().choices("bias", "en", reporter=True, grouped=True)
    group_label, group = choices[0]
    assert group_label == "Racism or xenophobia"
    assert [code for code, _ in group] == [
        "racism_xenophobia",
        "anti_black",
        "anti_roma_sinti",
        "anti_indigenous",
    ]
    assert choices[1] == ("antisemitism", "Antisemitism")
    assert choices[-1] == ("not_sure", "Not sure")


def test_label_falls_back_to_english_and_understands_regional_tags():
    t = taxonomy()
    assert t.label("bias", "antisemitism", "ar") == "Antisemitism"
    assert t.label("bias", "antisemitism", None) == "Antisemitism"
    assert t.label("setting", "online", "de-AT") == "Im Internet"
    assert t.label("setting", "online", "sv_SE") == "På nätet"
    assert t.description("bias", "not_sure", "fr").startswith("Vous avez le sentiment")
    assert t.description("ideology", "far_right", "en") is None
    assert t.axis_label("setting", "fr") == "Où cela s’est passé"
    assert t.is_multiple("bias") and not t.is_multiple("incident_type")


def test_reporter_sees_bias_incident_and_setting_with_help_text():
    t = taxonomy()
    for axis in ("bias", "incident_type", "setting"):
        values = t.axis(axis, reporter=True)
        assert values == t.axis(axis)
        for v in values:
            for language in LANGUAGES:
                assert v.describe(language), (axis, v.code, language)


def test_unknown_axis_code_and_version():
    t = taxonomy()
    with pytest.raises(UnknownCode):
        t.get("bias", "racism")
    with pytest.raises(UnknownCode):
        t.axis("mood")
    with pytest.raises(UnknownVersion):
        taxonomy("1999.1")
    assert t.has("bias", "not_sure") and not t.has("bias", "racism") and not t.has("mood", "x")
    assert [v.code for v in t.children("bias", "racism_xenophobia")] == [
        "anti_black",
        "anti_roma_sinti",
        "anti_indigenous",
    ]
