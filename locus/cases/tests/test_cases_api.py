"""The staff cases API: list with filters, counts and pages; the detail under the routing
decision (audited); every step, its refusals in the one error shape, and safe retries."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from locus.accounts.services import token_create
from locus.cases.choices import MessageDirection
from locus.cases.models import Case, CaseMessage, CaseNote
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.core.testing.world import enable_totp
from locus.outbox.models import OutboxMessage

from .factories import ONLINE, REPORT, cases_of, route_to, submit

API = "/api/v1/places/alpha/cases"
SECRETS = ("resident@example.org", "Ana Resident", "+447700900123", "PR-778899")


@pytest.fixture
def everyone(world, partners):
    route_to(world.a.place, partners.in_a())
    return partners


def bearer(membership):
    _token, secret = token_create(membership=membership, name="test")
    return {"Authorization": f"Bearer {secret}"}


def worker_of(organisation, role="caseworker"):
    user = UserFactory()
    enable_totp(user)  # a caseworker's token works only with two-factor authentication
    return MembershipFactory(user=user, organisation=organisation, role=role)


def get(client, url, headers, **params):
    return client.get(url, params, headers=headers)


def post(client, url, headers, body=None, **extra):
    return client.post(
        url, json.dumps(body or {}), content_type="application/json", headers=headers | extra
    )


def error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "fields"}, body
    if code:
        assert body["code"] == code, body
    return body


@pytest.fixture
def team(world):
    return bearer(world.a.memberships["caseworker"])


# --- list ----------------------------------------------------------------------------------


def test_list_filters_counts_and_pages(world, everyone, team, client, in_place):
    threat = submit(world.a.place)
    posts = [submit(world.a.place, ONLINE) for _ in range(2)]
    with in_place(world.a.place):
        first = cases_of(threat)[everyone.team]
    post(client, f"{API}/{first.pk}/start", team)
    post(
        client,
        f"{API}/{first.pk}/assign",
        team,
        {"assignee": world.a.users["caseworker"].pk},
    )
    body = get(client, API, team).json()
    assert body["count"] == 3 and body["pages"] == 1 and len(body["results"]) == 3
    assert body["counts"]["all"] == 3 and body["counts"]["in_progress"] == 1
    assert body["counts"]["new"] == 2 and body["counts"]["overdue"] == 0
    item = next(i for i in body["results"] if i["reference"] == threat.reference)
    assert item["status"] == "in_progress" and item["assigned_to"]["id"] == (
        world.a.users["caseworker"].pk
    )
    assert item["level"] == "full" and item["group"] is None
    grouped = [i for i in body["results"] if i["group"]]
    assert len(grouped) == 2 and {i["group"]["size"] for i in grouped} == {2}
    text = json.dumps(body)
    for secret in (*SECRETS, "burn our house", "scrolling"):
        assert secret not in text

    assert [
        i["reference"] for i in get(client, API, team, status="in_progress").json()["results"]
    ] == [threat.reference]
    assert get(client, API, team, assigned="me").json()["count"] == 1
    assert get(client, API, team, assigned="none").json()["count"] == 2
    group = get(client, API, team, group=posts[0].content_key).json()
    assert {i["reference"] for i in group["results"]} == {p.reference for p in posts}
    page = get(client, API, team, page_size=2, page=2).json()
    assert page["pages"] == 2 and len(page["results"]) == 1
    body = error(get(client, API, team, page=3), 422)
    assert "page" in body["fields"]
    assert "page_size" in error(get(client, API, team, page_size=201), 422)["fields"]
    for bad in ({"status": "bogus"}, {"assigned": "someone"}, {"group": "abc"}):
        body = error(get(client, API, team, **bad), 422, "validation_error")
        assert set(body["fields"]) == set(bad)


def test_list_of_every_organisation_only_for_the_place_team(world, everyone, team, client):
    submit(world.a.place)
    assert get(client, API, team, scope="all").json()["count"] == 3  # team, police, charity
    charity = bearer(worker_of(everyone.charity))
    assert get(client, API, charity).json()["count"] == 1
    error(get(client, API, charity, scope="all"), 422)


def test_overdue_filter(world, everyone, team, client, in_place):
    report = submit(world.a.place)
    with in_place(world.a.place):
        case = cases_of(report)[everyone.team]
        Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(days=2))
    admin = bearer(world.a.memberships["admin"])
    response = post(
        client,
        f"{API}/targets",
        admin,
        {"acknowledge_target_hours": 24, "close_target_days": None},
    )
    assert response.json() == {"acknowledge_target_hours": 24, "close_target_days": None}
    body = get(client, API, team, overdue="true").json()
    assert [i["id"] for i in body["results"]] == [case.pk] and body["results"][0]["overdue"]
    assert body["counts"]["overdue"] == 1


# --- detail --------------------------------------------------------------------------------


def test_detail_follows_the_decision_and_is_audited(world, everyone, client, in_place):
    report = submit(world.a.place, evidence=True)
    cases = cases_of(report)
    police = worker_of(everyone.police)
    body = get(client, f"{API}/{cases[everyone.police].pk}", bearer(police)).json()
    assert body["visibility"]["level"] == "anonymised" and body["visibility"]["own"]
    assert body["report"]["account"] == REPORT["account"]
    assert body["report"]["contact"] is None and body["report"]["police_reference"] is None
    assert len(body["evidence"]) == 1 and body["timeline"][0]["kind"] == "created"
    for secret in SECRETS:
        assert secret not in json.dumps(body)
    event = AuditEvent.objects.get(action=AuditAction.CASE_VIEWED)
    assert event.actor == police.user and event.data["level"] == "anonymised"

    charity = get(
        client, f"{API}/{cases[everyone.charity].pk}", bearer(worker_of(everyone.charity))
    )
    assert charity.json()["report"]["contact"]["email"] == "resident@example.org"
    # Another organisation's case: the same 404 as a missing one.
    error(get(client, f"{API}/{cases[everyone.charity].pk}", bearer(police)), 404, "not_found")
    error(get(client, f"{API}/999999", bearer(police)), 404, "not_found")
    error(get(client, f"{API}/0", bearer(police)), 422)


def test_content_only_detail_says_nothing_about_the_reporter(world, everyone, client):
    report = submit(world.a.place, ONLINE, area=world.a.areas[0])
    case = cases_of(report)[everyone.platform]
    body = get(client, f"{API}/{case.pk}", bearer(worker_of(everyone.platform))).json()
    assert body["report"]["content_url"] == ONLINE["content_url"]
    assert body["report"]["account"] is None and body["report"]["area"] is None
    assert body["area"] is None and body["evidence"] == []
    assert "scrolling" not in json.dumps(body) and "finder@" not in json.dumps(body)


def test_the_place_team_reads_another_case_without_notes_or_messages(
    world, everyone, team, client, in_place
):
    report = submit(world.a.place)
    case = cases_of(report)[everyone.police]
    police = worker_of(everyone.police)
    post(client, f"{API}/{case.pk}/notes", bearer(police), {"body": "Known to us."})
    with in_place(world.a.place):
        message = CaseMessage.objects.create(
            place=world.a.place,
            case=case,
            direction=MessageDirection.FROM_REPORTER,
            body="Hello?",
        )
    body = get(client, f"{API}/{case.pk}", team).json()
    assert body["visibility"]["own"] is False and body["notes"] == [] and body["messages"] == []
    message.refresh_from_db()
    assert message.read_at is None
    body = get(client, f"{API}/{case.pk}", bearer(police)).json()
    assert [n["body"] for n in body["notes"]] == ["Known to us."]
    assert [m["body"] for m in body["messages"]] == ["Hello?"]
    message.refresh_from_db()
    assert message.read_at is not None
    # Read-only: it may not act on it either.
    error(post(client, f"{API}/{case.pk}/acknowledge", team), 403, "forbidden")


# --- steps ---------------------------------------------------------------------------------


def test_workflow_steps(world, everyone, team, client, in_place):
    report = submit(world.a.place)
    case = cases_of(report)[everyone.team]
    url = f"{API}/{case.pk}"
    assert post(client, f"{url}/acknowledge", team).json()["status"] == "acknowledged"
    error(post(client, f"{url}/acknowledge", team), 422, "invalid_transition")
    assert post(client, f"{url}/start", team).json()["status"] == "in_progress"
    body = post(
        client,
        f"{url}/classify",
        team,
        {"verification": "verified", "bias": ["antisemitism"], "ideology": "far_right"},
    ).json()
    assert body["verification"] == "verified" and body["verified_bias"] == ["antisemitism"]
    body = error(
        post(client, f"{url}/classify", team, {"verification": "verified", "bias": ["x"]}), 422
    )
    assert "bias" in body["fields"]
    body = error(
        post(client, f"{url}/assign", team, {"assignee": world.a.users["analyst"].pk}), 422
    )
    assert "assignee" in body["fields"]
    assert post(client, f"{url}/assign", team, {"assignee": None}).json()["assigned_to"] is None
    body = error(post(client, f"{url}/close", team, {"outcome": "nope"}), 422)
    assert "outcome" in body["fields"]
    body = post(client, f"{url}/close", team, {"outcome": "supported"}).json()
    assert body["status"] == "closed" and body["outcome"] == "supported"
    assert post(client, f"{url}/reopen", team).json()["status"] == "in_progress"
    error(
        client.post(f"{url}/close", "not json", content_type="application/json", headers=team),
        400,
    )


def test_notes_and_messages_are_safe_to_retry(world, everyone, team, client, in_place):
    report = submit(world.a.place, REPORT | {"wants_email_updates": True})
    case = cases_of(report)[everyone.team]
    key = {"Idempotency-Key": "note-1"}
    first = post(client, f"{API}/{case.pk}/notes", team, {"body": "Called back."}, **key)
    again = post(client, f"{API}/{case.pk}/notes", team, {"body": "Called back."}, **key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    error(post(client, f"{API}/{case.pk}/notes", team, {"body": "Other."}, **key), 422)
    for bad in ("  ", 5, None, "nul\x00", "\ud800", "x" * 10_001):
        body = error(post(client, f"{API}/{case.pk}/notes", team, {"body": bad}), 422)
        assert list(body["fields"]) == ["body"], bad
    with in_place(world.a.place):
        assert CaseNote.objects.filter(case=case).count() == 1

    key = {"Idempotency-Key": "message-1"}
    first = post(client, f"{API}/{case.pk}/messages", team, {"body": "Thank you."}, **key)
    again = post(client, f"{API}/{case.pk}/messages", team, {"body": "Thank you."}, **key)
    assert first.status_code == 201 and first.json() == again.json()
    with in_place(world.a.place):
        assert CaseMessage.objects.filter(case=case).count() == 1
        assert OutboxMessage.objects.filter(source_type="cases.casemessage").count() == 1


def test_messages_are_refused_on_content_only_cases(world, everyone, client):
    report = submit(world.a.place, ONLINE)
    case = cases_of(report)[everyone.platform]
    platform = bearer(worker_of(everyone.platform))
    error(post(client, f"{API}/{case.pk}/messages", platform, {"body": "Hi"}), 422, "not_allowed")


def test_hand_on(world, partners, team, client, in_place):
    route_to(world.a.place, [partners.team])
    report = submit(world.a.place, REPORT | {"consent_police_anonymised": False})
    case = cases_of(report)[partners.team]
    body = error(
        post(client, f"{API}/{case.pk}/hand-on/{partners.police.pk}", team), 422, "consent_refused"
    )
    assert "police" in body["message"] and body["fields"]["organisation_id"]
    body = error(post(client, f"{API}/{case.pk}/hand-on/{partners.police_b.pk}", team), 422)
    assert "organisation_id" in body["fields"]
    key = {"Idempotency-Key": "hand-on-1"}
    url = f"{API}/{case.pk}/hand-on/{partners.charity.pk}"
    first = post(client, url, team, **key)
    assert first.status_code == 200 and first.json()["status"] == "handed_on"
    assert post(client, url, team, **key).json() == first.json()
    error(post(client, url, team), 422)  # without the key: it already has the report
    with in_place(world.a.place):
        received = Case.objects.get(report=report, organisation=partners.charity)
    body = get(client, f"{API}/{received.pk}", bearer(worker_of(partners.charity))).json()
    assert body["handed_on_from"] == {"id": partners.team.pk, "name": partners.team.name}
    body = get(client, f"{API}/{case.pk}", team).json()
    assert body["handed_on_to"][0]["organisation"]["id"] == partners.charity.pk


def test_refusals_are_in_the_requests_language(world, partners, team, client):
    """The case API's own checks spoke English whatever the request's language."""
    route_to(world.a.place, [partners.team])
    case = cases_of(submit(world.a.place))[partners.team]
    swedish = team | {"Accept-Language": "sv"}
    body = error(post(client, f"{API}/{case.pk}/hand-on/{partners.police_b.pk}", swedish), 422)
    assert body["message"] == "Organisationen verkar inte i den här kommunen."
    assert body["fields"] == {
        "organisation_id": ["Välj en organisation som finns med i den här kommunen."]
    }
    body = error(post(client, f"{API}/{case.pk}/notes", swedish, {"body": " "}), 422)
    assert body["fields"] == {"body": ["Det här fältet är obligatoriskt."]}
    body = error(post(client, f"{API}/{case.pk}/messages", swedish, {"body": "x" * 6000}), 422)
    assert body["fields"] == {"body": ["Håll den under 5000 tecken."]}
    body = error(post(client, f"{API}/{case.pk}/assign", swedish, {"assignee": 999999}), 422)
    assert body["fields"]["assignee"] == [
        "Välj en person i din organisation som handlägger ärenden."
    ]
    body = error(get(client, f"{API}/stats", swedish, days=100000), 422)
    assert "dagar" in body["fields"]["days"][0]
    # pydantic's pattern check: its English message, with the form expected.
    body = error(get(client, API, swedish, assigned="abc"), 422)
    assert body["fields"]["assigned"] == [
        "Värdet har inte den form som förväntas (^(me|none|[1-9][0-9]{0,17})$)."
    ]


def test_merge_and_split(world, everyone, team, client, in_place):
    first, second = submit(world.a.place), submit(world.a.place)
    with in_place(world.a.place):
        primary, duplicate = cases_of(first)[everyone.team], cases_of(second)[everyone.team]
        police_case = cases_of(first)[everyone.police]
    body = post(client, f"{API}/{duplicate.pk}/merge/{primary.pk}", team).json()
    assert body["merged_into"] == primary.pk and body["verification"] == "duplicate"
    assert [i["id"] for i in get(client, API, team).json()["results"]] == [primary.pk]
    detail = get(client, f"{API}/{primary.pk}", team).json()
    assert [c["id"] for c in detail["merged_cases"]] == [duplicate.pk]
    error(post(client, f"{API}/{duplicate.pk}/acknowledge", team), 422, "merged")
    error(post(client, f"{API}/{primary.pk}/merge/{primary.pk}", team), 422)
    error(post(client, f"{API}/{primary.pk}/merge/{police_case.pk}", team), 404)
    body = post(client, f"{API}/{duplicate.pk}/split", team).json()
    assert body["merged_into"] is None and body["verification"] == "unverified"
    error(post(client, f"{API}/{duplicate.pk}/split", team), 422, "not_merged")


def test_stats(world, everyone, team, client, in_place):
    report = submit(world.a.place)
    with in_place(world.a.place):
        case = cases_of(report)[everyone.team]
    post(client, f"{API}/{case.pk}/acknowledge", team)
    body = get(client, f"{API}/stats", team, days=30).json()
    assert body["cases"] == 1 and body["acknowledged"] == 1
    assert body["median_acknowledge_seconds"] >= 0 and body["acknowledge_within"] is None
    error(get(client, f"{API}/stats", team, days=0), 422)
    assert "days" in error(get(client, f"{API}/stats", team, days=3661), 422)["fields"]
    error(get(client, f"{API}/targets", team), 403, "forbidden")  # caseworkers: not theirs


# --- If-Match ------------------------------------------------------------------------------


def test_if_match_keeps_a_client_from_overwriting_a_change_it_has_not_read(
    world, everyone, team, client, in_place
):
    """The case carries a version (its ETag); assign and classify with `If-Match` are refused
    with 412 when the case changed since it was read, naming the change and who made it.
    Without the header they work as before."""
    with in_place(world.a.place):
        case = cases_of(submit(world.a.place))[everyone.team]
    url = f"{API}/{case.pk}"
    me = world.a.users["caseworker"]
    read = get(client, url, team)
    assert read.status_code == 200
    version = read.json()["version"]
    assert read["ETag"] == f'"{version}"'

    # A colleague (through the API too) gives the case to themselves meanwhile.
    sam = worker_of(everyone.team)
    sam.user.name = "Sam Colleague"
    sam.user.save()
    sam_token = bearer(sam)
    taken = post(client, f"{url}/assign", sam_token, {"assignee": sam.user.pk})
    assert taken.status_code == 200
    assert taken.json()["version"] != version and taken["ETag"] == f'"{taken.json()["version"]}"'

    stale = post(client, f"{url}/assign", team, {"assignee": me.pk}, **{"If-Match": f'"{version}"'})
    body = error(stale, 412, "changed_meanwhile")
    assert "Sam Colleague" in body["message"] and "Assigned" in body["message"]
    assert list(body["fields"]) == ["If-Match"]
    assert stale["ETag"] == taken["ETag"]
    case.refresh_from_db()
    assert case.assigned_to == sam.user

    data = {"verification": "verified", "bias": ["antisemitism"]}
    error(post(client, f"{url}/classify", team, data, **{"If-Match": f'"{version}"'}), 412)
    case.refresh_from_db()
    assert case.verification != "verified"

    # With the version now read (one of a list, or *), the change goes ahead.
    current = taken["ETag"]
    done = post(client, f"{url}/classify", team, data, **{"If-Match": f'"0", {current}'})
    assert done.status_code == 200, done.content
    assert done["ETag"] != current
    assert (
        post(client, f"{url}/assign", team, {"assignee": me.pk}, **{"If-Match": "*"}).status_code
        == 200
    )
    # A weak tag never matches; no header checks nothing (existing clients).
    weak = post(client, f"{url}/assign", team, {"assignee": None}, **{"If-Match": "W/" + current})
    error(weak, 412, "changed_meanwhile")
    assert post(client, f"{url}/assign", team, {"assignee": None}).status_code == 200
    case.refresh_from_db()
    assert case.assigned_to is None and case.verification == "verified"


def test_a_malformed_if_match_is_a_422_naming_the_header(world, everyone, team, client, in_place):
    with in_place(world.a.place):
        case = cases_of(submit(world.a.place))[everyone.team]
    for value in ("4711", '"47"11"', '"a b"', ","):
        answer = post(
            client, f"{API}/{case.pk}/assign", team, {"assignee": None}, **{"If-Match": value}
        )
        assert error(answer, 422, "validation_error")["fields"] == {
            "If-Match": ['Give the ETag you read, in double quotes (e.g. "4711"), or *.']
        }


def test_list_rows_carry_the_version_an_if_match_takes(world, everyone, team, client, in_place):
    """Each row of the list carries the case's version (the same as its ETag), so a client can
    assign from the list under If-Match without reading each case; a row read before a change
    is refused like a stale read of the case itself."""
    with in_place(world.a.place):
        case = cases_of(submit(world.a.place))[everyone.team]
        other = cases_of(submit(world.a.place))[everyone.team]
    rows = {row["id"]: row for row in get(client, API, team).json()["results"]}
    for each in (case, other):
        assert rows[each.pk]["version"] == get(client, f"{API}/{each.pk}", team)["ETag"].strip('"')
    listed = rows[case.pk]["version"]
    me = world.a.users["caseworker"]
    moved = post(
        client, f"{API}/{case.pk}/assign", team, {"assignee": me.pk}, **{"If-Match": f'"{listed}"'}
    )
    assert moved.status_code == 200, moved.content
    rows = {row["id"]: row for row in get(client, API, team).json()["results"]}
    assert rows[case.pk]["version"] == moved.json()["version"] != listed
    assert rows[other.pk]["version"] == get(client, f"{API}/{other.pk}", team)["ETag"].strip('"')
    stale = post(
        client, f"{API}/{case.pk}/assign", team, {"assignee": None}, **{"If-Match": f'"{listed}"'}
    )
    error(stale, 412, "changed_meanwhile")


def test_if_match_is_read_after_who_asks_and_which_case(world, everyone, client, in_place):
    """A malformed If-Match does not answer before authentication and the case's lookup."""
    with in_place(world.a.place):
        case = cases_of(submit(world.a.place))[everyone.team]
    bad = {"If-Match": "nonsense"}
    for step, body in (("assign", {"assignee": None}), ("classify", {"verification": "verified"})):
        error(post(client, f"{API}/{case.pk}/{step}", {}, body, **bad), 401)
        other = bearer(world.b.memberships["caseworker"])
        assert post(client, f"{API}/{case.pk}/{step}", other, body, **bad).status_code in (403, 404)
