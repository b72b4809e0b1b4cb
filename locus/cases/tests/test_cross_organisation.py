"""Another organisation of the same place (not the place's own team) never reaches a case it
did not receive: every case page action and every API operation answers 404, as for a case
that does not exist, and nothing changes. The isolation battery proves the same across
places; this proves it across organisations inside one place."""

import json

import pytest
from django.urls import reverse

from locus.accounts.services import token_create
from locus.cases.models import Case, CaseEvent, CaseMessage, CaseNote
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.core.testing.world import enable_totp

from .factories import cases_of, route_to, submit

API = "/api/v1/places/alpha/cases"


@pytest.fixture
def setting(world, partners, in_place):
    """A report routed to the police only (with an evidence file), and the charity's staff."""
    route_to(world.a.place, [partners.police])
    report = submit(world.a.place, evidence=True)
    police_case = cases_of(report)[partners.police]
    # A case of the charity's own, to name as a merge target.
    route_to(world.a.place, [partners.charity], name="Charity")
    own = cases_of(submit(world.a.place))[partners.charity]
    user = UserFactory()
    enable_totp(user)
    membership = MembershipFactory(user=user, organisation=partners.charity, role="admin")
    _token, secret = token_create(membership=membership, name="probe")
    with in_place(world.a.place):
        evidence = police_case.report.evidence.get()
    return {
        "case": police_case,
        "own": own,
        "user": user,
        "headers": {"Authorization": f"Bearer {secret}"},
        "evidence": evidence,
        "partners": partners,
    }


def _snapshot(world, in_place, case):
    with in_place(world.a.place):
        case = Case.objects.get(pk=case.pk)
        return (
            case.status,
            case.assigned_to_id,
            case.merged_into_id,
            case.verification,
            CaseEvent.objects.filter(case=case).count(),
            CaseNote.objects.filter(case=case).count(),
            CaseMessage.objects.filter(case=case).count(),
            Case.objects.filter(report_id=case.report_id).count(),
        )


API_STEPS = [
    ("get", "", None),
    ("post", "/acknowledge", {}),
    ("post", "/start", {}),
    ("post", "/reopen", {}),
    ("post", "/split", {}),
    ("post", "/close", {"outcome": "supported"}),
    ("post", "/assign", {"assignee": None}),
    ("post", "/classify", {"verification": "verified"}),
    ("post", "/notes", {"body": "Seen."}),
    ("post", "/messages", {"body": "Hello."}),
    ("post", "/hand-on/{charity}", {}),
    ("post", "/merge/{own}", {}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), API_STEPS)
def test_api_operations_on_another_organisations_case_answer_404(
    world, setting, client, in_place, method, suffix, body
):
    case = setting["case"]
    before = _snapshot(world, in_place, case)
    url = f"{API}/{case.pk}" + suffix.format(
        charity=setting["partners"].charity.pk, own=setting["own"].pk
    )
    if method == "get":
        response = client.get(url, headers=setting["headers"])
    else:
        response = client.post(
            url, json.dumps(body), content_type="application/json", headers=setting["headers"]
        )
    assert response.status_code == 404, response.content
    assert _snapshot(world, in_place, case) == before


def test_api_merge_into_another_organisations_case_answers_404(world, setting, client, in_place):
    own, case = setting["own"], setting["case"]
    before = _snapshot(world, in_place, case)
    response = client.post(
        f"{API}/{own.pk}/merge/{case.pk}",
        "{}",
        content_type="application/json",
        headers=setting["headers"],
    )
    assert response.status_code == 404, response.content
    assert _snapshot(world, in_place, case) == before


def test_api_list_never_shows_another_organisations_case(world, setting, client):
    body = client.get(API, headers=setting["headers"]).json()
    ids = [item["id"] for item in body["results"]]
    assert setting["own"].pk in ids and setting["case"].pk not in ids
    # Every organisation's cases: for the place's own team only.
    response = client.get(API, {"scope": "all"}, headers=setting["headers"])
    assert response.status_code == 422 and "scope" in response.json()["fields"]


PAGE_ACTIONS = [
    {},
    {"action": "acknowledge"},
    {"action": "note", "body": "Seen."},
    {"action": "message", "message-body": "Hello."},
    {"action": "close", "outcome": "supported"},
    {"action": "classify", "verification": "verified"},
]


@pytest.mark.parametrize("data", PAGE_ACTIONS)
def test_case_page_of_another_organisation_answers_404(world, setting, client, in_place, data):
    case = setting["case"]
    before = _snapshot(world, in_place, case)
    client.force_login(setting["user"])
    url = reverse("cases:detail", args=[world.a.place.slug, case.pk])
    response = client.post(url, data) if data else client.get(url)
    assert response.status_code == 404
    assert _snapshot(world, in_place, case) == before


def test_evidence_of_another_organisations_case_answers_404(world, setting, client):
    client.force_login(setting["user"])
    case, evidence = setting["case"], setting["evidence"]
    url = reverse("cases:evidence", args=[world.a.place.slug, case.pk, evidence.pk])
    assert client.get(url).status_code == 404
    # Nor through its own case's address.
    own = setting["own"]
    url = reverse("cases:evidence", args=[world.a.place.slug, own.pk, evidence.pk])
    assert client.get(url).status_code == 404


def test_merge_on_the_page_by_another_organisations_reference_is_refused(
    world, setting, client, in_place
):
    case, own = setting["case"], setting["own"]
    before = _snapshot(world, in_place, case)
    client.force_login(setting["user"])
    url = reverse("cases:detail", args=[world.a.place.slug, own.pk])
    response = client.post(url, {"action": "merge", "into": case.report.reference})
    assert response.status_code == 422
    assert _snapshot(world, in_place, case) == before
