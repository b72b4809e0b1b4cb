"""Exports in each jurisdiction's scheme, checked against counts worked out by hand from
docs/taxonomy.md's mapping table on a hand-built set of incidents."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.insights import exports
from locus.insights.open_data import Incident

from .open_data_helpers import make_many, make_report

D = date(2025, 6, 15)
START, END = date(2025, 1, 1), date(2025, 12, 31)

# (number, incident type, bias): the numbers are used in the comments of the expectations.
HAND_BUILT = [
    (1, "threat", ["anti_roma_sinti"]),
    (2, "assault", ["antisemitism", "anti_muslim"]),
    (3, "damage_desecration", ["gender"]),
    (4, "abusive_behaviour", ["not_sure"]),
    (5, "online_content", ["anti_black", "sexual_orientation"]),
    (6, "discrimination", ["disability"]),
    (8, "threat", ["gender_identity", "sexual_orientation"]),
    (9, "extreme_violence", ["anti_indigenous"]),
    (10, "threat", ["social_status"]),
    (11, "abusive_behaviour", ["other"]),
]


def incidents():
    return [
        Incident(day=D, area_id=None, incident_type=k, bias=tuple(b)) for _n, k, b in HAND_BUILT
    ]


def counted(scheme):
    result = exports.scheme_counts(incidents(), scheme=scheme, start=START, end=END)
    return {c.code: c.incidents for c in result.categories}, result


UK = {
    "race": 3,  # 1, 5, 9 (sub-values count as racism)
    "religion": 1,  # 2: antisemitic and anti-Muslim is one religion incident
    "sexual_orientation": 2,  # 5, 8
    "disability": 1,  # 6
    "transgender_identity": 1,  # 8: also counted in sexual orientation
}


def test_uk_five_strands():
    by_code, result = counted("uk_strands")
    assert by_code == UK
    assert result.incidents == 6  # 1, 2, 5, 6, 8, 9
    assert result.not_in_scheme == 4  # gender, not sure, social status, other
    assert result.hate_incidents == 10
    assert sum(by_code.values()) > result.incidents  # multi-strand incidents count in each


def test_osce_odihr_categories():
    by_code, result = counted("osce_odihr")
    assert by_code == {
        "racist_xenophobic": 3,  # 1, 5, 9
        "anti_roma": 1,  # 1 (also racist and xenophobic)
        "anti_semitic": 1,  # 2
        "anti_muslim": 1,  # 2
        "anti_christian": 0,
        "other_religion_belief": 0,
        "gender_based": 1,  # 3
        "anti_lgbti": 2,  # 5, 8 (8 names two LGBTI biases: once)
        "disability": 1,  # 6
        "other": 2,  # 10 social status, 11 other
    }
    assert result.incidents == 9 and result.not_in_scheme == 1  # "not sure"


def test_german_pmk_topics():
    by_code, result = counted("de_pmk")
    expected = dict.fromkeys(by_code, 0)
    expected |= {
        "rassismus": 3,  # 1, 5, 9
        "fremdenfeindlich": 3,  # 1, 5, 9
        "antiziganistisch": 1,  # 1
        "sonstige_ethnische_zugehoerigkeit": 1,  # 9
        "antisemitisch": 1,  # 2
        "islamfeindlich": 1,  # 2
        "sexuelle_orientierung": 2,  # 5, 8
        "geschlechtsbezogene_diversitaet": 1,  # 8
        "frauenfeindlich": 1,  # 3
        "behinderung": 1,  # 6
        "gesellschaftlicher_status": 1,  # 10
    }
    assert by_code == expected
    assert by_code["auslaenderfeindlich"] == by_code["deutschfeindlich"] == 0
    assert result.incidents == 8 and result.not_in_scheme == 2  # not sure, other


def test_swedish_bra_motives_at_every_level():
    by_code, result = counted("se_bra")
    assert by_code == {
        "framlingsfientliga_rasistiska": 3,  # 1, 5, 9
        "afrofobiska": 1,  # 5
        "antiziganistiska": 1,  # 1
        "mot_samer": 1,  # 9
        "ovriga_framlingsfientliga_rasistiska": 0,
        "religiosa_grupper": 1,  # 2: two motives of the group, once in the group
        "antisemitiska": 1,
        "islamofobiska": 1,
        "kristofobiska": 0,
        "ovriga_religiosa": 0,
        "hbtqi": 2,  # 5, 8
        "homofobiska": 2,  # 5, 8
        "transfobiska": 1,  # 8
        "ospecificerade": 1,  # 4: "not sure"
    }
    assert result.incidents == 6  # 1, 2, 4, 5, 8, 9
    assert result.not_in_scheme == 4  # gender, disability, social status, other
    levels = {c.code: c.depth for c in result.categories}
    assert levels["framlingsfientliga_rasistiska"] == 0 and levels["afrofobiska"] == 1


def test_french_categories():
    by_code, result = counted("fr")
    assert by_code == {
        "raciste_xenophobe_antireligieux": 4,  # 1, 2, 5, 9
        "raciste_xenophobe": 3,  # 1, 5, 9
        "antireligieux": 1,  # 2
        "antisemite": 1,
        "antimusulman": 1,
        "antichretien": 0,
        "antireligieux_autre": 0,
        "anti_lgbt": 2,  # 5, 8
    }
    assert result.incidents == 5 and result.not_in_scheme == 5


def test_odihr_civil_society_submission():
    rows, total = exports.odihr_submission(incidents())
    table = {r.code: (*r.by_type, r.total, r.outside) for r in rows}
    # (violent attacks against people, threats, attacks against property, total, outside)
    assert table == {
        "racist_xenophobic": (1, 1, 0, 2, 1),  # 9 violent, 1 threat, 5 online content
        "anti_roma": (0, 1, 0, 1, 0),  # 1
        "anti_semitic": (1, 0, 0, 1, 0),  # 2
        "anti_muslim": (1, 0, 0, 1, 0),  # 2
        "anti_christian": (0, 0, 0, 0, 0),
        "other_religion_belief": (0, 0, 0, 0, 0),
        "gender_based": (0, 0, 1, 1, 0),  # 3
        "anti_lgbti": (0, 1, 0, 1, 1),  # 8 threat, 5 online content
        "disability": (0, 0, 0, 0, 1),  # 6 discrimination
        "other": (0, 1, 0, 1, 1),  # 10 threat, 11 abuse
    }
    # each incident once: 2 and 9 violent; 1, 8, 10 threats; 3 property; 5, 6, 11 outside
    assert (*total.by_type, total.total, total.outside) == (2, 3, 1, 6, 3)
    text = exports.submission_csv(rows, total, start=START, end=END)
    header = next(csv.reader(io.StringIO(text)))
    assert header[2:] == [
        "bias_code",
        "bias_motivation",
        "violent_attacks_against_people",
        "threats",
        "attacks_against_property",
        "total",
        "outside_odihr_scope",
    ]


def test_scheme_csv_rows():
    _by_code, result = counted("uk_strands")
    rows = list(csv.DictReader(io.StringIO(exports.scheme_csv(result))))
    assert [r["category_code"] for r in rows if r["row_type"] == "category"] == [
        "race",
        "religion",
        "sexual_orientation",
        "disability",
        "transgender_identity",
    ]
    totals = {r["category_code"]: int(r["incidents"]) for r in rows if r["row_type"] == "total"}
    assert totals == {"incidents_counted": 6, "not_in_scheme": 4, "hate_incidents": 10}


def test_leaf_hits_partition_nested_schemes():
    columns, hits = exports.leaf_hits(incidents(), scheme="se_bra")
    assert "framlingsfientliga_rasistiska:unspecified" in columns
    assert "framlingsfientliga_rasistiska" not in columns
    generic = Incident(day=D, area_id=None, incident_type="threat", bias=("racism_xenophobia",))
    _c, generic_hits = exports.leaf_hits([generic], scheme="se_bra")
    assert generic_hits[0] == ["framlingsfientliga_rasistiska:unspecified"]
    assert sorted(hits[0]) == ["antiziganistiska"]  # anti-Roma: the motive, not the group too


# --- the page, the download, the API ---------------------------------------------------------


@pytest.fixture
def hand_built_reports(world):
    place = world.a.place
    for number, kind, bias in HAND_BUILT:
        make_report(place, day=D, area=world.a.areas[number % 2], kind=kind, bias=bias)
    # outside the hate counts, or outside the period: never counted
    make_report(place, day=D, kind="disinformation", bias=["anti_muslim"])
    make_report(place, day=D, kind="terrorist_extremist_content", bias=[])
    make_report(place, day=date(2024, 12, 31), kind="threat", bias=["antisemitism"])
    for _i in range(30):  # one post reported 30 times: one incident
        make_report(place, day=D, kind="online_content", bias=["anti_muslim"], content_key="post-1")
    return place


def test_exports_page_and_download(world, client, hand_built_reports):
    place = hand_built_reports
    client.force_login(world.a.users["analyst"])
    url = reverse("insights_data:exports", args=[place.slug])
    assert client.get(url).status_code == 200
    query = {"scheme": "uk_strands", "start": "2025-01-01", "end": "2025-12-31"}
    response = client.get(url, query)
    assert response.status_code == 200
    assert "Transgender identity" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.STATISTICS_EXPORTED).exists()
    response = client.get(url, query | {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    religion = next(r for r in rows if r["category_code"] == "religion")
    assert religion["incidents"] == "2"  # 2, and the post reported 30 times (once)
    event = AuditEvent.objects.get(action=AuditAction.STATISTICS_EXPORTED)
    assert event.place == place and event.actor == world.a.users["analyst"]
    assert event.data["scheme"] == "uk_strands"

    response = client.get(url, query | {"scheme": "osce_odihr_submission", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[-1]["bias_code"] == "all" and rows[-1]["threats"] == "3"


def test_export_form_errors_next_to_the_field(world, client, hand_built_reports):
    client.force_login(world.a.users["analyst"])
    url = reverse("insights_data:exports", args=[world.a.place.slug])
    response = client.get(url, {"scheme": "uk_strands", "start": "2025-12-01", "end": "2025-01-01"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_end_error"' in html and 'value="2025-12-01"' in html
    response = client.get(url, {"scheme": "nope", "start": "x", "end": ""})
    assert response.status_code == 422


def test_exports_api(world, client, hand_built_reports):
    client.force_login(world.a.users["coordinator"])
    base = f"/api/v1/places/{world.a.place.slug}/insights/exports"
    response = client.get(f"{base}/se_bra", {"start": "2025-01-01", "end": "2025-12-31"})
    assert response.status_code == 200
    data = response.json()
    assert {c["code"]: c["incidents"] for c in data["categories"]}["ospecificerade"] == 1
    assert data["incidents"] == 7  # the six of test_swedish_bra_motives + the anti-Muslim post
    response = client.get(f"{base}/osce_odihr_submission", {"start": "2025-01-01"})
    assert response.status_code == 200
    assert response.json()["all_incidents"]["threats"] == 3
    response = client.get(f"{base}/uk_strands", {"start": "2025-06-01", "end": "2025-01-01"})
    assert response.status_code == 422 and "end" in response.json()["fields"]
    assert client.get(f"{base}/nope").status_code == 422
    assert AuditEvent.objects.filter(action=AuditAction.STATISTICS_EXPORTED).count() == 2
    client.force_login(world.a.users["member"])
    assert client.get(f"{base}/uk_strands").status_code == 403
    client.logout()
    assert client.get(f"{base}/uk_strands").status_code == 401


@pytest.mark.parametrize("scale", [1, 5])
def test_exports_query_budget(world, client, django_assert_max_num_queries, scale):
    place = world.a.place
    make_many(place, [(D, world.a.areas[0], "threat", ["antisemitism"], 5 * scale)])
    client.force_login(world.a.users["analyst"])
    url = reverse("insights_data:exports", args=[place.slug])
    with django_assert_max_num_queries(12):
        assert (
            client.get(
                url, {"scheme": "fr", "start": "2025-01-01", "end": "2025-12-31"}
            ).status_code
            == 200
        )


def test_record_level_export_streams_coded_fields_only(world, client, hand_built_reports):
    from locus.cases.tests.factories import submit

    submit(world.a.place)  # with an account, a location in words, contact details
    client.force_login(world.a.users["analyst"])
    url = reverse("insights_data:export_records", args=[world.a.place.slug])
    response = client.get(url, {"start": "2020-01-01", "end": "2030-12-31"})
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(HAND_BUILT) + 3 + 30 + 1
    assert list(rows[0]) == exports.RECORD_HEADER
    for secret in ("Station Road", "burn our house", "resident@example.org", "PR-778899", "x.com"):
        assert secret not in text
    assert {r["online_content_group"] for r in rows if r["online_content_group"]} == {"1"}
    two = next(r for r in rows if r["incident_type"] == "assault")
    assert two["bias"] == "antisemitism;anti_muslim"
    assert two["received_at"] == "2025-06-15T12:00:00Z" and two["occurred_on"] == "2025-06-15"
    event = AuditEvent.objects.get(action=AuditAction.STATISTICS_EXPORTED)
    assert event.data["records"] is True
    response = client.get(url, {"start": "2025-02-01", "end": "2025-01-01"})
    assert response.status_code == 422 and 'id="records_end_error"' in response.content.decode()
    client.force_login(world.a.users["member"])
    assert client.get(url).status_code == 403


@pytest.fixture
def reports_of_the_hand_built_set(world):
    """The hand-built incidents as reports, with what must not change the counts: incident 5
    reported seven times (one post), non-hate reports, a report outside the period."""
    place = world.a.place
    for number, kind, bias in HAND_BUILT:
        copies = 7 if number == 5 else 1
        for _copy in range(copies):
            make_report(
                place,
                day=D,
                area=world.a.areas[number % 2],
                kind=kind,
                bias=bias,
                content_key="post-5" if number == 5 else "",
            )
    make_report(place, day=D, kind="disinformation", bias=["anti_muslim"])
    make_report(place, day=D, kind="suspicious_activity", bias=["antisemitism"])
    make_report(place, day=D, kind="terrorist_extremist_content", bias=["not_sure"])
    make_report(place, day=date(2026, 1, 1), kind="threat", bias=["antisemitism"])
    return place


@pytest.mark.parametrize("scheme", exports.SCHEMES)
def test_every_scheme_from_reports_matches_the_hand_counts(
    world, client, reports_of_the_hand_built_set, scheme
):
    """The CSV downloaded from the page, from reports, equals the counts checked by hand above
    (test_uk_five_strands … test_french_categories)."""
    expected, result = counted(scheme)
    client.force_login(world.a.users["analyst"])
    url = reverse("insights_data:exports", args=[world.a.place.slug])
    query = {"scheme": scheme, "start": "2025-01-01", "end": "2025-12-31", "format": "csv"}
    rows = list(csv.DictReader(io.StringIO(client.get(url, query).content.decode())))
    got = {r["category_code"]: int(r["incidents"]) for r in rows if r["row_type"] == "category"}
    assert got == expected
    totals = {r["category_code"]: int(r["incidents"]) for r in rows if r["row_type"] == "total"}
    assert totals == {
        "incidents_counted": result.incidents,
        "not_in_scheme": result.not_in_scheme,
        "hate_incidents": 10,
    }


def test_odihr_submission_from_reports(world, client, reports_of_the_hand_built_set):
    rows, total = exports.odihr_submission(incidents())
    client.force_login(world.a.users["analyst"])
    url = reverse("insights_data:exports", args=[world.a.place.slug])
    query = {"scheme": "osce_odihr_submission", "start": "2025-01-01", "end": "2025-12-31"}
    got = list(
        csv.DictReader(io.StringIO(client.get(url, query | {"format": "csv"}).content.decode()))
    )
    assert [
        (r["bias_code"], int(r["violent_attacks_against_people"]), int(r["threats"])) for r in got
    ] == [(r.code, r.by_type[0], r.by_type[1]) for r in (*rows, total)]
    assert got[-1]["outside_odihr_scope"] == "3" and got[-1]["total"] == "6"


def test_record_level_export_is_for_the_place_team_only(world, client, in_place):
    """A partner's caseworker — here a platform's desk, which receives only the public online
    content of a report — could match a row's received time with its case's submission time and
    learn the area, bias and reporter role the consent kept from it: 403, and the exports page
    does not offer it. The team's caseworkers have no such need either (they read every case)."""
    from locus.cases.tests.factories import ONLINE, cases_of, route_to, submit
    from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
    from locus.core.testing.world import enable_totp
    from locus.directory.choices import OrganisationType
    from locus.directory.services import organisation_list_in_place

    place = world.a.place
    platform = OrganisationFactory(name="Chirp Trust & Safety", type=OrganisationType.COMPANY)
    with in_place(place):
        organisation_list_in_place(organisation=platform, place=place)
    route_to(place, [platform])
    report = submit(place, ONLINE, area=world.a.areas[0])
    assert cases_of(report)[platform].decision.level == "content_only"
    desk = UserFactory()
    enable_totp(desk)
    MembershipFactory(user=desk, organisation=platform, role="admin")

    records = reverse("insights_data:export_records", args=[place.slug])
    page = reverse("insights_data:exports", args=[place.slug])
    period = {"start": "2020-01-01", "end": "2030-12-31"}
    for user in (desk, world.a.users["caseworker"]):
        client.force_login(user)
        assert client.get(records, period).status_code == 403
    # The partner's desk gets no exact counts at all (VIEW_INSIGHTS is place-wide); the team's
    # caseworker reads the scheme counts, without the record-level export.
    client.force_login(desk)
    assert client.get(page).status_code == 403
    client.force_login(world.a.users["caseworker"])
    response = client.get(page)
    assert response.status_code == 200 and records not in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.STATISTICS_EXPORTED).exists()
    for role in ("analyst", "coordinator", "admin"):
        client.force_login(world.a.users[role])
        assert records in client.get(page).content.decode()
        response = client.get(records, period)
        assert response.status_code == 200
        assert b"".join(response.streaming_content).count(b"\n") == 2
