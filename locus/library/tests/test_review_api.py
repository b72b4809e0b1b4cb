"""The contributors' and editors' API: submit a record (fields named in errors, Idempotency-Key),
list your organisation's records, send a draft for review, the queue and decisions — and who
may call what. Also the showcase page and the language-list parser."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locus.accounts.services import token_create
from locus.library import moderation
from locus.library.choices import RecordStatus
from locus.library.models import Record
from locus.library.review_forms import parse_language_list

pytestmark = pytest.mark.django_db

API = "/api/v1/library"
BODY = {
    "type": "toolkit",
    "title": "Toolkit for youth workers",
    "languages": ["en"],
    "interventions": ["practitioner_training"],
    "outcomes": ["knowledge_skills"],
    "year": 2023,
}


def post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def assert_error(response, status, fields=()):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "fields"}
    assert set(fields) <= set(body["fields"]), body
    return body


def test_submit_list_and_send_for_review(world, client):
    client.force_login(world.a.users["member"])
    response = post(client, f"{API}/submissions", BODY)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "draft" and created["page"] == f"/library/{created['id']}/"
    record = Record.objects.get(pk=created["id"])
    assert record.organisation == world.a.organisation
    listed = client.get(f"{API}/submissions", {"status": "draft"}).json()
    assert [row["id"] for row in listed] == [record.pk]
    response = post(client, f"{API}/submissions/{record.pk}/submit", {})
    assert response.status_code == 200 and response.json()["status"] == "in_review"
    assert_error(post(client, f"{API}/submissions/{record.pk}/submit", {}), 422, ["status"])
    # Another organisation's member sees nothing of it.
    client.force_login(world.b.users["member"])
    assert client.get(f"{API}/submissions").json() == []
    assert_error(post(client, f"{API}/submissions/{record.pk}/submit", {}), 404)


def test_submit_straight_into_review_and_editors_decide(world, client):
    client.force_login(world.a.users["member"])
    created = post(client, f"{API}/submissions", {**BODY, "submit": True}).json()
    assert created["status"] == "in_review"
    assert_error(client.get(f"{API}/review"), 403)
    assert_error(post(client, f"{API}/review/{created['id']}", {"decision": "approved"}), 403)

    client.force_login(world.b.users["editor"])
    queue = client.get(f"{API}/review").json()
    assert [row["id"] for row in queue] == [created["id"]]
    assert_error(
        post(client, f"{API}/review/{created['id']}", {"decision": "rejected"}), 422, ["comment"]
    )
    assert_error(post(client, f"{API}/review/{created['id']}", {"decision": "maybe"}), 422)
    response = post(
        client,
        f"{API}/review/{created['id']}",
        {"decision": "changes_requested", "comment": "Year?"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": created["id"],
        "status": "draft",
        "action": "changes_requested",
        "notified": True,
    }
    client.force_login(world.a.users["member"])
    row = client.get(f"{API}/submissions").json()[0]
    assert row["latest_review"]["comment"] == "Year?"


def test_validation_errors_name_the_fields(world, client):
    client.force_login(world.a.users["member"])
    assert_error(post(client, f"{API}/submissions", {**BODY, "title": ""}), 422, ["title"])
    assert_error(
        post(client, f"{API}/submissions", {**BODY, "topics": ["not_a_topic"]}), 422, ["topics"]
    )
    assert_error(post(client, f"{API}/submissions", {**BODY, "languages": ["zz"]}), 422)
    assert_error(
        post(client, f"{API}/submissions", {**BODY, "training_level": "advanced"}),
        422,
        ["training_level"],
    )
    assert_error(post(client, f"{API}/submissions", {**BODY, "status": "published"}), 422)
    assert_error(
        post(client, f"{API}/submissions", {**BODY, "organisation": world.b.organisation.pk}),
        422,
        ["organisation"],
    )
    assert Record.objects.count() == 0


def test_anonymous_callers_get_401(client):
    assert_error(post(client, f"{API}/submissions", BODY), 401)
    assert_error(client.get(f"{API}/submissions"), 401)
    assert_error(client.get(f"{API}/review"), 401)


def test_idempotency_key_makes_a_retry_safe(world, client):
    client.force_login(world.a.users["member"])
    headers = {"HTTP_IDEMPOTENCY_KEY": "submit-0001"}
    first = post(client, f"{API}/submissions", BODY, **headers)
    second = post(client, f"{API}/submissions", BODY, **headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Record.objects.count() == 1
    reused = post(client, f"{API}/submissions", {**BODY, "title": "Other"}, **headers)
    assert_error(reused, 422)


def test_a_token_contributes_for_its_own_organisation(world, client):
    membership = world.a.memberships["caseworker"]
    _token, secret = token_create(membership=membership, name="library")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = post(client, f"{API}/submissions", BODY, **auth)
    assert response.status_code == 201, response.content
    assert Record.objects.get().organisation == world.a.organisation
    assert_error(
        post(
            client,
            f"{API}/submissions",
            {**BODY, "organisation": world.b.organisation.pk},
            **auth,
        ),
        422,
        ["organisation"],
    )


def test_a_token_acts_only_through_its_own_membership(world, client):
    """A person who is a library editor for one organisation and an analyst for another: the
    analyst membership's token may not review (the editor role is the other membership's), and
    sees, submits and reads the files of none of the other organisation's drafts — as every
    place endpoint treats a token (docs/api.md, "What a token may do")."""
    from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory

    person = UserFactory()
    MembershipFactory(user=person, organisation=world.a.organisation, role="editor")
    other = OrganisationFactory(name="Research unit")
    analyst = MembershipFactory(user=person, organisation=other, role="analyst")
    _token, secret = token_create(membership=analyst, name="statistics script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    draft = moderation.record_draft_create(
        actor=world.a.users["member"],
        organisation=world.a.organisation,
        data={"type": "guide", "title": "Draft of the team", "languages": ["en"]},
    )
    moderation.record_submit(actor=world.a.users["member"], record=draft)
    queued = moderation.record_draft_create(
        actor=world.a.users["member"],
        organisation=world.a.organisation,
        data={"type": "guide", "title": "Still a draft", "languages": ["en"]},
    )

    assert_error(client.get(f"{API}/review", **auth), 403)
    assert_error(post(client, f"{API}/review/{draft.pk}", {"decision": "approved"}, **auth), 403)
    assert client.get(f"{API}/submissions", **auth).json() == []
    assert_error(post(client, f"{API}/submissions/{queued.pk}/submit", {}, **auth), 404)
    assert_error(client.get(f"{API}/records/{queued.pk}/files", **auth), 404)
    draft.refresh_from_db()
    assert draft.status == RecordStatus.IN_REVIEW

    # The same person signed in acts through all their memberships, as on the pages.
    client.force_login(person)
    assert [row["id"] for row in client.get(f"{API}/review").json()] == [draft.pk]
    assert {row["id"] for row in client.get(f"{API}/submissions").json()} == {
        draft.pk,
        queued.pk,
    }


def test_similar_is_404_for_drafts(world, client):
    record = moderation.record_draft_create(
        actor=world.a.users["member"],
        organisation=world.a.organisation,
        data={"type": "guide", "title": "Private", "languages": ["en"]},
    )
    assert_error(client.get(f"{API}/records/{record.pk}/similar"), 404)
    assert_error(client.get(f"{API}/records/0/similar"), 422)


# --- the showcase ---------------------------------------------------------------------------


def _published_for(world, side, title):
    record = moderation.record_draft_create(
        actor=side.users["member"],
        organisation=side.organisation,
        data={"type": "case_study", "title": title, "languages": ["en"]},
    )
    moderation.record_submit(actor=side.users["member"], record=record)
    moderation.record_review(
        actor=world.other(side).users["editor"], record=record, decision="approved"
    )
    return record


def test_showcase_gathers_the_places_published_records(
    world, client, django_assert_max_num_queries
):
    for number in range(4):
        _published_for(world, world.a, f"Alphaville practice {number}")
    _published_for(world, world.b, "Betastad practice")
    moderation.record_draft_create(
        actor=world.a.users["member"],
        organisation=world.a.organisation,
        data={"type": "guide", "title": "Alphaville draft", "languages": ["en"]},
    )
    with django_assert_max_num_queries(10):
        response = client.get("/alpha/library/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alphaville practice 3" in html and "Betastad practice" not in html
    assert "Alphaville draft" not in html
    assert "Betastad practice" in client.get("/beta/library/").content.decode()
    assert client.get("/nowhere/library/").status_code == 404
    assert Record.objects.get(title="Betastad practice").status == RecordStatus.PUBLISHED


# --- parsing --------------------------------------------------------------------------------


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_language_lists_parse_to_distinct_lower_case_codes(text):
    codes = parse_language_list(text)
    assert len(codes) == len(set(codes))
    for code in codes:
        assert code == code.lower() and code.strip() == code and code
        assert not any(sep in code for sep in ",; /\t\n")


@given(
    st.lists(st.sampled_from(["en", "FR", "de", "sv", "ar"]), max_size=6),
    st.sampled_from([",", ";", " ", ", ", "/"]),
)
@settings(max_examples=100, deadline=None)
def test_language_lists_keep_order(codes, separator):
    expected = list(dict.fromkeys(code.lower() for code in codes))
    assert parse_language_list(separator.join(codes)) == expected
