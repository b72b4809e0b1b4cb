"""The consent table (docs/routing.md): every organisation type × every consent combination."""

from itertools import product

import pytest

from locus.cases.policies import share_for
from locus.directory.choices import OrganisationType as T

from .helpers import org, report

CONTACT = {"email": "someone@example.org"}
SUPPORT = [T.VICTIM_SUPPORT, T.CSO, T.FAITH_GROUP, T.HEALTH, T.SCHOOL]
# (police_anonymised, police_with_contact, support_contact); with_contact implies anonymised,
# as report_submit stores it.
CONSENTS = [(a or w, w, s) for a, w, s in product([False, True], repeat=3)]


def _report(consent, **fields):
    anonymised, with_contact, support = consent
    return report(
        consent_police_anonymised=anonymised,
        consent_police_with_contact=with_contact,
        consent_support_contact=support,
        contact=CONTACT,
        **fields,
    )


@pytest.mark.parametrize("consent", CONSENTS)
def test_police(consent):
    share = share_for(_report(consent), org(T.POLICE))
    anonymised, with_contact, _support = consent
    if with_contact:
        assert (share.allowed, share.level, share.with_contact) == (True, "full", True)
        assert share.reason == "police_with_contact"
    elif anonymised:
        assert (share.allowed, share.level, share.with_contact) == (True, "anonymised", False)
        assert share.reason == "police_anonymised"
    else:
        assert (share.allowed, share.level, share.with_contact) == (False, None, False)
        assert share.reason == "no_police_consent"


def test_police_with_contact_consent_but_no_contact_sends_no_contact():
    share = share_for(
        report(consent_police_anonymised=True, consent_police_with_contact=True), org(T.POLICE)
    )
    assert share.allowed and share.level == "full" and not share.with_contact


def test_police_with_contact_alone_implies_anonymised():
    share = share_for(report(consent_police_with_contact=True, contact=CONTACT), org(T.POLICE))
    assert share.allowed and share.with_contact


@pytest.mark.parametrize(("kind", "consent"), list(product(SUPPORT, CONSENTS)))
def test_support_organisations_need_support_consent(kind, consent):
    share = share_for(_report(consent), org(kind))
    if consent[2]:
        assert (share.allowed, share.level, share.with_contact) == (True, "full", True)
        assert share.reason == "support_contact"
    else:
        assert (share.allowed, share.level, share.with_contact) == (False, None, False)
        assert share.reason == "no_support_consent"


@pytest.mark.parametrize("consent", CONSENTS)
def test_another_local_authority_is_like_a_support_organisation(consent):
    share = share_for(_report(consent), org(T.LOCAL_AUTHORITY), place_team=False)
    assert share.allowed is consent[2]
    assert share.reason == ("support_contact" if consent[2] else "no_support_consent")


@pytest.mark.parametrize("consent", CONSENTS)
def test_the_place_team_always_gets_the_full_report_contact_only_with_support_consent(consent):
    share = share_for(_report(consent), org(T.LOCAL_AUTHORITY), place_team=True)
    assert (share.allowed, share.level, share.reason) == (True, "full", "place_team")
    assert share.with_contact is consent[2]


@pytest.mark.parametrize(
    ("kind", "consent", "incident_type", "url", "expected"),
    [
        (kind, consent, incident, url, expected)
        for kind in (T.COMPANY, T.NATIONAL_BODY)
        for consent in CONSENTS
        for incident, url, expected in [
            ("online_content", "https://x.com/p/1", "public_content"),
            ("terrorist_extremist_content", "https://t.me/c/1", "public_content"),
            ("disinformation", "https://tiktok.com/@a/1", "public_content"),
            ("online_content", "", "no_content_url"),
            ("threat", "https://x.com/p/1", "not_online_content"),
            ("assault", "", "not_online_content"),
        ]
    ],
)
def test_platforms_and_national_bodies_get_public_content_only(
    kind, consent, incident_type, url, expected
):
    share = share_for(_report(consent, incident_type=incident_type, content_url=url), org(kind))
    assert share.reason == expected
    if expected == "public_content":
        assert (share.allowed, share.level, share.with_contact) == (True, "content_only", False)
    else:
        assert (share.allowed, share.level, share.with_contact) == (False, None, False)


def test_an_online_setting_does_not_make_a_threat_public_content():
    r = report(incident_type="threat", setting="online", content_url="https://x.com/p/1")
    assert share_for(r, org(T.COMPANY)).reason == "not_online_content"


def test_unlisted_or_unknown_organisations_receive_nothing():
    everything = _report((True, True, True))
    assert share_for(everything, org(T.POLICE), listed=False).reason == "not_listed"
    assert share_for(everything, org("martians")).reason == "unknown_type"
    assert not share_for(everything, org("martians")).allowed
