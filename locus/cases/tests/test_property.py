"""Property: whatever the report and the rules, a destination marked sent never goes further
than the reporter's consent allows, and the engine never raises."""

from hypothesis import given, settings
from hypothesis import strategies as st

from locus.cases.routing import evaluate
from locus.directory.choices import OrganisationType as T
from locus.reporting.taxonomy import taxonomy

from .helpers import listed, org, report, rule

VOCABULARY = taxonomy()
INCIDENT_TYPES = [v.code for v in VOCABULARY.axis("incident_type")] + ["retired_code"]
BIASES = [v.code for v in VOCABULARY.axis("bias")] + ["unknown_bias"]
SETTINGS = [v.code for v in VOCABULARY.axis("setting")] + [""]
PLATFORMS = [v.code for v in VOCABULARY.axis("platform")] + [""]
ONLINE_TYPES = {v.code for v in VOCABULARY.axis("incident_type") if v.online}

# Two of every type; the last ones are not listed in the place. One council runs the place.
POOL = [org(kind) for kind in T for _twice in range(2)]
UNLISTED = {o.pk for o in POOL[1::2][:4]}
TEAM = next(o for o in POOL if o.type == T.LOCAL_AUTHORITY)
DIRECTORY = listed(*[o for o in POOL if o.pk not in UNLISTED], teams=[TEAM])
SUPPORT = {T.VICTIM_SUPPORT, T.CSO, T.FAITH_GROUP, T.HEALTH, T.SCHOOL}

reports = st.builds(
    report,
    incident_type=st.sampled_from(INCIDENT_TYPES),
    bias=st.one_of(st.lists(st.sampled_from(BIASES), max_size=4), st.just("anti_black")),
    setting=st.sampled_from(SETTINGS),
    platform=st.sampled_from(PLATFORMS),
    content_url=st.sampled_from(["", "https://x.com/status/1"]),
    area_id=st.sampled_from([None, 1, 2]),
    language=st.sampled_from(["en", "fr", "de-AT", "sv", "xx"]),
    consent_police_anonymised=st.booleans(),
    consent_police_with_contact=st.booleans(),
    consent_support_contact=st.booleans(),
    contact=st.sampled_from([None, {}, {"email": "a@example.org"}]),
)

values = {
    "incident_type": st.lists(st.sampled_from(INCIDENT_TYPES), max_size=3),
    "bias": st.lists(st.sampled_from(BIASES), max_size=3),
    "setting": st.lists(st.sampled_from(SETTINGS), max_size=2),
    "platform": st.lists(st.sampled_from(PLATFORMS), max_size=2),
    "area": st.lists(st.sampled_from([1, 2, 3]), max_size=2),
    "online": st.sampled_from([None, True, False]),
    "language": st.lists(st.sampled_from(["en", "fr", "de", "sv"]), max_size=2),
    "consent": st.lists(
        st.sampled_from(["police_anonymised", "police_with_contact", "support_contact"]),
        max_size=2,
    ),
}
odd = st.one_of(
    st.just({"nonsense": [1]}),
    st.just({"bias": "racism_xenophobia"}),
    st.just({"online": "yes"}),
    st.just([]),
    st.just(None),
    st.just({"area": [{"id": 1}]}),
)
conditions = st.one_of(st.fixed_dictionaries({}, optional=values), odd)
rules = st.lists(
    st.builds(
        lambda i, conds, dests, stop, fallback, active, position: rule(
            i,
            dests,
            conds,
            stop=stop,
            is_fallback=fallback,
            is_active=active,
            position=position,
        ),
        st.integers(1, 10_000),
        conditions,
        st.lists(st.sampled_from(POOL), max_size=5),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.integers(0, 5),
    ),
    max_size=6,
    unique_by=lambda x: x.id,  # rule ids are primary keys
)


@settings(max_examples=400, deadline=None)
@given(r=reports, rule_set=rules)
def test_a_sent_destination_never_exceeds_consent(r, rule_set):
    result = evaluate(r, rule_set, directory=DIRECTORY)
    police_consent = r.consent_police_anonymised or r.consent_police_with_contact
    organisations = [d.organisation.pk for d in result.destinations]
    assert len(organisations) == len(set(organisations))
    named = {o.pk for x in rule_set if x.is_active for o in x.destinations}
    assert set(organisations) <= named
    for decision in result.destinations:
        kind, share = decision.organisation.type, decision.share
        if not decision.sent:
            assert share.level is None and not share.with_contact and share.reason
            continue
        assert decision.organisation.pk not in UNLISTED
        if share.with_contact:
            assert r.contact
        if kind == T.POLICE:
            assert police_consent
            assert share.level in {"anonymised", "full"}
            if share.with_contact or share.level == "full":
                assert r.consent_police_with_contact
        elif kind in (T.COMPANY, T.NATIONAL_BODY):
            assert share.level == "content_only" and not share.with_contact
            assert r.incident_type in ONLINE_TYPES and r.content_url
        elif kind in SUPPORT or (kind == T.LOCAL_AUTHORITY and decision.organisation != TEAM):
            assert r.consent_support_contact
        elif kind == T.LOCAL_AUTHORITY:
            assert share.level == "full"
            assert share.with_contact == bool(r.consent_support_contact and r.contact)
        else:  # pragma: no cover - every type is handled above
            raise AssertionError(kind)
    # Deterministic: positions and ids decide, not the order the rules were given in.
    assert evaluate(r, list(reversed(rule_set)), directory=DIRECTORY) == result
