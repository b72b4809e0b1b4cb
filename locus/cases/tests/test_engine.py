"""The routing engine's semantics, on unsaved reports and rules (no database)."""

import pytest

from locus.cases.routing import evaluate, match
from locus.directory.choices import OrganisationType as T
from locus.reporting.taxonomy import available_versions

from .helpers import listed, org, report, rule

POLICE = org(T.POLICE, "Police")
CHARITY = org(T.VICTIM_SUPPORT, "Charity")
COUNCIL = org(T.LOCAL_AUTHORITY, "Council")
PLATFORM = org(T.COMPANY, "Platform")
DIRECTORY = listed(POLICE, CHARITY, COUNCIL, PLATFORM, teams=[COUNCIL])
EVERYTHING = {
    "consent_police_anonymised": True,
    "consent_police_with_contact": True,
    "consent_support_contact": True,
    "contact": {"email": "a@example.org"},
}


def _names(result, sent=None):
    return [d.organisation.name for d in result.destinations if sent is None or d.sent is sent]


def _route(r, *rules):
    return evaluate(r, rules, directory=DIRECTORY)


def test_all_given_conditions_must_match_and_values_are_alternatives():
    conditions = {"incident_type": ["threat", "assault"], "setting": ["street"]}
    only_police = rule(1, [POLICE], conditions)
    assert _names(_route(report(incident_type="assault", setting="street"), only_police)) == [
        "Police"
    ]
    assert _names(_route(report(incident_type="threat", setting="street"), only_police))
    assert not _names(_route(report(incident_type="threat", setting="online"), only_police))
    assert not _names(_route(report(incident_type="discrimination", setting="street"), only_police))


def test_a_bias_sub_value_matches_a_rule_naming_its_parent_but_not_the_reverse():
    parent = rule(1, [CHARITY], {"bias": ["racism_xenophobia"]})
    child = rule(2, [CHARITY], {"bias": ["anti_roma_sinti"]})
    assert _names(_route(report(bias=["anti_roma_sinti"]), parent)) == ["Charity"]
    assert _names(_route(report(bias=["gender", "anti_black"]), parent)) == ["Charity"]
    assert not _names(_route(report(bias=["racism_xenophobia"]), child))
    assert not _names(_route(report(bias=["antisemitism"]), parent))
    assert not _names(_route(report(bias=[]), parent))


@pytest.mark.parametrize("version", available_versions())
def test_rules_match_reports_of_every_taxonomy_version(version):
    """Rules name today's codes; a report keeps the version it was written in (2026.1 before
    the 2026.2 rewording), and the codes, parents and flags it is matched on are the same."""
    rules = (
        rule(1, [CHARITY], {"bias": ["racism_xenophobia"], "setting": ["home_neighbourhood"]}),
        rule(2, [PLATFORM], {"online": True}),
    )
    r = report(taxonomy_version=version, bias=["anti_black"], setting="home_neighbourhood")
    assert _names(_route(r, *rules)) == ["Charity"]
    r = report(taxonomy_version=version, incident_type="online_content", setting="online")
    assert _names(_route(r, *rules)) == ["Platform"]


@pytest.mark.parametrize(
    ("fields", "online"),
    [
        ({"incident_type": "online_content"}, True),
        ({"incident_type": "threat", "setting": "online"}, True),
        ({"incident_type": "threat", "setting": "street"}, False),
        ({"incident_type": "no_such_type"}, False),
    ],
)
def test_online_flag(fields, online):
    on, off = rule(1, [PLATFORM], {"online": True}), rule(2, [CHARITY], {"online": False})
    result = _route(report(**fields), on, off)
    assert _names(result) == (["Platform"] if online else ["Charity"])
    assert _names(_route(report(**fields), rule(3, [POLICE], {"online": None}))) == ["Police"]


def test_area_language_platform_and_consent_conditions():
    r = report(area_id=7, language="fr-CA", platform="tiktok", consent_support_contact=True)
    assert _names(_route(r, rule(1, [CHARITY], {"area": [7, 8]})))
    assert not _names(_route(r, rule(1, [CHARITY], {"area": [8]})))
    assert not _names(_route(report(), rule(1, [CHARITY], {"area": [7]})))
    assert _names(_route(r, rule(1, [CHARITY], {"language": ["fr"]})))
    assert not _names(_route(r, rule(1, [CHARITY], {"language": ["de", "sv"]})))
    assert _names(_route(r, rule(1, [CHARITY], {"platform": ["tiktok", "youtube"]})))
    assert _names(_route(r, rule(1, [CHARITY], {"consent": ["support_contact"]})))
    assert not _names(_route(r, rule(1, [CHARITY], {"consent": ["police_anonymised"]})))
    with_contact = report(consent_police_with_contact=True)
    assert _names(_route(with_contact, rule(1, [POLICE], {"consent": ["police_anonymised"]})))


def test_empty_conditions_are_ignored_and_odd_ones_never_match():
    assert _names(_route(report(), rule(1, [CHARITY], {"bias": [], "setting": None})))
    for odd in ({"colour": ["red"]}, {"bias": "racism_xenophobia"}, {"online": "yes"}, [1]):
        assert not _names(_route(report(bias=["racism_xenophobia"]), rule(1, [CHARITY], odd)))


def test_matched_conditions_are_in_the_explanation():
    r = report(incident_type="threat", bias=["anti_black"], **EVERYTHING)
    conditions = {"incident_type": ["threat", "assault"], "bias": ["racism_xenophobia"]}
    (decision,) = _route(r, rule(1, [POLICE], conditions)).destinations
    assert decision.explanation["rule"] == {"id": 1, "name": "rule 1"}
    assert decision.explanation["matched"] == {
        "incident_type": ["threat"],
        "bias": ["racism_xenophobia"],
    }
    assert decision.explanation["share"]["reason"] == "police_with_contact"


def test_rules_in_position_order_and_stop_ends_the_look_up():
    r = report(**EVERYTHING)
    late = rule(1, [POLICE], position=20)
    early_stop = rule(2, [CHARITY], position=10, stop=True)
    result = _route(r, late, early_stop)
    assert _names(result) == ["Charity"] and result.matched_rules == [2]
    inactive_stop = rule(2, [CHARITY], position=10, stop=True, is_active=False)
    assert _names(_route(r, late, inactive_stop)) == ["Police"]
    non_matching_stop = rule(3, [CHARITY], {"bias": ["gender"]}, position=5, stop=True)
    assert _names(_route(r, late, non_matching_stop)) == ["Police"]


def test_the_fallback_applies_only_when_no_other_rule_matched():
    fallback = rule(1, [COUNCIL], is_fallback=True, position=0)
    threats = rule(2, [POLICE], {"incident_type": ["threat"]})
    assert _names(_route(report(incident_type="assault"), fallback, threats)) == ["Council"]
    # A matching rule whose only destination consent refuses still counts as a match.
    result = _route(report(incident_type="threat"), fallback, threats)
    assert _names(result) == ["Police"] and _names(result, sent=True) == []
    assert result.destinations[0].explanation["share"]["reason"] == "no_police_consent"
    assert _route(report(), fallback).destinations[0].explanation["fallback"] is True


def test_an_organisation_named_twice_appears_once_first_rule_wins():
    r = report(incident_type="threat", **EVERYTHING)
    first = rule(1, [POLICE, CHARITY], {"incident_type": ["threat"]})
    second = rule(2, [POLICE], {"consent": ["police_anonymised"]})
    result = _route(r, second, first)
    assert sorted(_names(result)) == ["Charity", "Police"]
    police = next(d for d in result.destinations if d.organisation is POLICE)
    assert police.rule.id == 1
    assert police.explanation["also_matched"] == [
        {"rule": {"id": 2, "name": "rule 2"}, "matched": {"consent": ["police_anonymised"]}}
    ]


def test_not_sent_destinations_stay_in_the_result_with_the_reason():
    result = _route(report(), rule(1, [POLICE, CHARITY, COUNCIL, PLATFORM]))
    assert _names(result, sent=True) == ["Council"]
    reasons = {d.organisation.name: d.share.reason for d in result.not_sent}
    assert reasons == {
        "Police": "no_police_consent",
        "Charity": "no_support_consent",
        "Platform": "not_online_content",
    }


def test_an_organisation_no_longer_listed_is_not_sent():
    gone = org(T.POLICE, "Gone")
    (decision,) = _route(report(**EVERYTHING), rule(1, [gone])).destinations
    assert not decision.sent and decision.share.reason == "not_listed"


def test_match_returns_the_matched_values():
    from locus.cases.routing import facts_of

    facts = facts_of(report(bias=["anti_roma_sinti"], setting="street"))
    assert match({"bias": ["racism_xenophobia", "gender"], "online": False}, facts) == {
        "bias": ["racism_xenophobia"],
        "online": False,
    }
