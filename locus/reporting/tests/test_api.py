"""The public reporting API: the vocabulary, sending a report (idempotent, rate limited, the
follow-up code shown once) and following it up with its reference and code."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from locus.core.models import IdempotencyKey
from locus.reporting.models import ConsentChange, Report

API = "/api/v1"
ACCOUNT = "Two men shouted abuse at me at the bus stop on Sunday evening."
EMAIL = "amal@example.test"
PHONE = "0123 456789"
BODY = {
    "incident_type": "abusive_behaviour",
    "setting": "public_transport",
    "bias": ["anti_muslim", "not_sure"],
    "account": ACCOUNT,
    "reporter_role": "victim",
    "support_wanted": ["emotional"],
    "already_reported": ["police"],
    "police_reference": "CR-2026-1234",
    "consent_police_anonymised": True,
    "consent_support_contact": True,
    "contact": {"name": "Amal", "email": EMAIL, "phone": PHONE},
    "wants_email_updates": True,
}


def send(client, body=None, *, slug="alpha", key=None, **headers):
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(
        f"{API}/places/{slug}/reports",
        json.dumps(BODY if body is None else body),
        content_type="application/json",
        headers=headers,
    )


def follow_up(client, reference, code, *, slug="alpha"):
    return client.post(
        f"{API}/places/{slug}/reports/follow-up",
        {"reference": reference, "code": code},
        content_type="application/json",
    )


def change_consent(client, reference, code, *, slug="alpha", **consent):
    body = {
        "reference": reference,
        "code": code,
        "police_anonymised": False,
        "police_with_contact": False,
        "support_contact": False,
    } | consent
    return client.post(
        f"{API}/places/{slug}/reports/follow-up/consent", body, content_type="application/json"
    )


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "fields"}, body
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


def assert_private(response):
    """Nothing the reporter wrote about what happened or about themselves comes back."""
    text = response.content.decode()
    for secret in (ACCOUNT, EMAIL, PHONE, "Amal", "CR-2026-1234"):
        assert secret not in text


def reports(in_place, place):
    with in_place(place):
        return list(Report.objects.all())


# --- the vocabulary ------------------------------------------------------------------------


def test_taxonomy_lists_the_reporter_visible_axes_in_the_language_asked(client, world):
    response = client.get(f"{API}/places/alpha/taxonomy?lang=sv")
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "sv" and body["version"]
    axes = {axis["name"]: axis for axis in body["axes"]}
    assert "ideology" not in axes  # staff only
    assert {"bias", "incident_type", "setting", "platform", "already_reported"} <= set(axes)
    bias = {value["code"]: value for value in axes["bias"]["values"]}
    assert bias["anti_roma_sinti"]["parent"] == "racism_xenophobia"
    assert bias["racism_xenophobia"]["parent"] is None
    assert bias["racism_xenophobia"]["description"]
    types = {value["code"]: value for value in axes["incident_type"]["values"]}
    assert types["online_content"]["online"] and axes["bias"]["multiple"]
    english = client.get(f"{API}/places/alpha/taxonomy?lang=en").json()
    english_bias = {v["code"]: v for v in english["axes"][0]["values"]}
    assert bias["racism_xenophobia"]["label"] != english_bias["racism_xenophobia"]["label"]
    assert {c["code"] for c in body["reporter_role"]} == {
        "victim",
        "witness",
        "on_behalf",
        "found_online",
    }


def test_taxonomy_speaks_the_request_s_language_by_default(client, world):
    german = client.get(f"{API}/places/alpha/taxonomy", headers={"Accept-Language": "de"})
    assert german.status_code == 200 and german.json()["language"] == "de"
    explicit = client.get(f"{API}/places/alpha/taxonomy?lang=de").json()
    assert german.json() == explicit


def test_taxonomy_refuses_an_unknown_language_and_place(client, world):
    body = assert_error(client.get(f"{API}/places/alpha/taxonomy?lang=xx"), 422)
    assert list(body["fields"]) == ["lang"]
    assert_error(client.get(f"{API}/places/nowhere/taxonomy"), 404, "not_found")


def test_taxonomy_gives_the_current_version_or_an_older_one_asked_for(client, world):
    from locus.reporting.taxonomy import CURRENT_VERSION, available_versions

    def anti_black(body):
        bias = next(axis for axis in body["axes"] if axis["name"] == "bias")
        return next(v["label"] for v in bias["values"] if v["code"] == "anti_black")

    current = client.get(f"{API}/places/alpha/taxonomy?lang=fr").json()
    assert current["version"] == current["current_version"] == CURRENT_VERSION
    assert current["versions"] == available_versions() == ["2026.1", "2026.2"]
    assert anti_black(current) == "Racisme envers les personnes noires"
    old = client.get(f"{API}/places/alpha/taxonomy?lang=fr&version=2026.1")
    assert old.status_code == 200
    assert old.json()["version"] == "2026.1" and old.json()["current_version"] == CURRENT_VERSION
    assert anti_black(old.json()) == "Racisme anti-Noirs"
    body = assert_error(client.get(f"{API}/places/alpha/taxonomy?version=1999.1"), 422)
    assert list(body["fields"]) == ["version"]


# --- sending -------------------------------------------------------------------------------


def test_send_a_report_returns_its_reference_code_and_routing(client, world, in_place):
    area = world.a.areas[0]
    occurred = (timezone.localdate() - timedelta(days=2)).isoformat()
    response = send(client, BODY | {"area_id": area.pk, "occurred_on": occurred})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "reference",
        "followup_code",
        "status",
        "routing",
        "routing_pending",
        "message",
    }
    assert body["followup_code"] and body["status"] == "received"
    assert body["routing_pending"] is False  # the test task backend routes at once
    assert isinstance(body["routing"], list) and body["routing"]
    assert_private(response)
    (report,) = reports(in_place, world.a.place)
    with in_place(world.a.place):
        assert report.reference == body["reference"]
        assert report.area == area and report.occurred_on.isoformat() == occurred
        assert report.account == ACCOUNT and report.bias == ["anti_muslim", "not_sure"]
        assert report.contact == {"name": "Amal", "email": EMAIL, "phone": PHONE}
        assert report.consent_police_anonymised and report.consent_support_contact
        assert report.wants_email_updates and report.language == "en"
        assert report.police_reference == "CR-2026-1234"
    opened = follow_up(client, body["reference"], body["followup_code"])
    assert opened.status_code == 200


def test_an_online_incident_needs_no_setting_and_the_platform_comes_from_the_address(
    client, world, in_place
):
    body = {
        "incident_type": "online_content",
        "bias": ["antisemitism"],
        "account": ACCOUNT,
        "reporter_role": "found_online",
        "content_url": "https://www.youtube.com/watch?v=abc",
    }
    assert send(client, body).status_code == 201
    (report,) = reports(in_place, world.a.place)
    assert report.setting == "online" and report.platform == "youtube"
    errors = assert_error(send(client, body | {"setting": "street"}), 422)["fields"]
    assert list(errors) == ["setting"]


def test_invalid_answers_are_422_naming_each_field(client, world, in_place):
    tomorrow = timezone.localdate() + timedelta(days=2)
    body = BODY | {
        "occurred_on": tomorrow.isoformat(),
        "area_id": world.b.areas[0].pk,  # the other place's
        "bias": ["anti_muslim", "not_a_bias"],
        "setting": "nowhere",
        "already_reported": [],
        "consent_police_with_contact": True,
        "contact": None,
        "wants_email_updates": True,
    }
    errors = assert_error(send(client, body), 422, "validation_error")["fields"]
    assert set(errors) == {
        "occurred_on",
        "area_id",
        "bias",
        "setting",
        "police_reference",
        "contact",
        "wants_email_updates",
    }
    assert errors["occurred_on"] == ["The date cannot be in the future."]
    assert errors["bias"] == ["Unknown choice: not_a_bias"]
    assert reports(in_place, world.a.place) == []


def test_an_unknown_incident_type_names_the_field(client, world, in_place):
    errors = assert_error(send(client, BODY | {"incident_type": "nope"}), 422)["fields"]
    assert errors == {"incident_type": ["Choose what happened."]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"incident_type": None}, "incident_type"),
        ({"reporter_role": "bystander"}, "reporter_role"),
        ({"content_url": "ftp://example.test/file"}, "content_url"),
        ({"content_url": "javascript:alert(1)"}, "content_url"),
        ({"contact": {"email": "not-an-address"}}, "contact.email"),
        ({"account": "   "}, "account"),
        ({"account": "nul \x00 byte"}, "account"),
        ({"support_wanted": ["money"]}, "support_wanted.0"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_malformed_answers_are_422_naming_the_field(client, world, change, field):
    body = {k: v for k, v in (BODY | change).items() if v is not None or k != "incident_type"}
    errors = assert_error(send(client, body), 422, "validation_error")["fields"]
    assert field in errors, errors


def test_the_field_messages_are_in_the_readers_language(client, world):
    """A front end taking reports shows these messages to the reporter: pydantic's English ones
    ("Input should be 'victim', 'witness'…", "Field required") are translated too."""
    body = {k: v for k, v in BODY.items() if k != "incident_type"}
    body |= {"reporter_role": "bystander", "surprise": True, "occurred_on": "yesterday"}
    response = send(client, body, **{"Accept-Language": "fr"})
    assert assert_error(response, 422, "validation_error")["fields"] == {
        "incident_type": ["Ce champ est obligatoire."],
        "reporter_role": [
            "Choisissez l’une de ces valeurs\u00a0: victim, witness, on_behalf, found_online."
        ],
        "surprise": ["Champ inconnu."],
        "occurred_on": ["Saisissez une date au format AAAA-MM-JJ."],
    }


def test_without_incident_type_or_account_the_fields_are_named(client, world):
    body = {k: v for k, v in BODY.items() if k not in ("incident_type", "account")}
    errors = assert_error(send(client, body), 422)["fields"]
    assert {"incident_type", "account"} <= set(errors)


def test_an_unknown_place_is_404(client, world):
    assert_error(send(client, slug="nowhere"), 404, "not_found")


# --- idempotency ---------------------------------------------------------------------------


def test_the_same_key_and_body_sends_one_report_and_shows_the_code_once(client, world, in_place):
    first = send(client, key="report-1")
    second = send(client, key="report-1")
    assert first.status_code == second.status_code == 201
    one, two = first.json(), second.json()
    assert one["followup_code"] and two["followup_code"] is None
    assert one["reference"] == two["reference"] and one["routing"] == two["routing"]
    assert one["message"] != two["message"]
    assert_private(second)
    assert len(reports(in_place, world.a.place)) == 1
    with in_place(world.a.place):
        (row,) = IdempotencyKey.objects.all()
    assert row.response_body == {"reference": one["reference"]}  # never the code
    assert one["followup_code"] not in json.dumps(row.response_body)


def test_the_same_key_with_another_body_is_422_and_sends_nothing(client, world, in_place):
    assert send(client, key="report-1").status_code == 201
    body = assert_error(send(client, BODY | {"ongoing": True}, key="report-1"), 422)
    assert body["code"] == "idempotency_key_reused"
    assert list(body["fields"]) == ["Idempotency-Key"]
    assert len(reports(in_place, world.a.place)) == 1


def test_a_refused_report_releases_its_key(client, world, in_place):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert_error(send(client, BODY | {"occurred_on": future}, key="k"), 422)
    with in_place(world.a.place):
        assert not IdempotencyKey.objects.exists()


def test_a_malformed_key_is_422_and_without_a_key_each_request_sends(client, world, in_place):
    body = assert_error(send(client, key="x" * 256), 422, "invalid_idempotency_key")
    assert list(body["fields"]) == ["Idempotency-Key"]
    assert send(client).status_code == send(client).status_code == 201
    assert len(reports(in_place, world.a.place)) == 2


# --- rate limits ---------------------------------------------------------------------------


def test_sending_is_rate_limited(client, world, settings, in_place):
    settings.LOCUS_RATE_LIMITS = {"report.submit": "1/h"}
    assert send(client).status_code == 201
    response = send(client)
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    assert len(reports(in_place, world.a.place)) == 1


def test_follow_up_and_consent_share_one_rate_limit(client, world, settings):
    settings.LOCUS_RATE_LIMITS = {"followup.open": "2/h"}
    assert follow_up(client, "K7QD-3MXA", "WRONG").status_code == 404
    assert change_consent(client, "K7QD-3MXA", "WRONG").status_code == 404
    response = follow_up(client, "K7QD-3MXA", "WRONG")
    assert_error(response, 429, "rate_limited")
    assert response["Retry-After"]
    assert_error(change_consent(client, "K7QD-3MXA", "WRONG"), 429, "rate_limited")


# --- follow-up -----------------------------------------------------------------------------


@pytest.fixture
def sent(client, world):
    body = send(client).json()
    return body["reference"], body["followup_code"]


def test_follow_up_shows_status_consent_and_routing_and_nothing_private(client, sent):
    reference, code = sent
    response = follow_up(client, reference.lower().replace("-", " "), code)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "reference",
        "status",
        "submitted_at",
        "erased_at",
        "consent",
        "routing",
        "organisations",
    }
    assert body["reference"] == reference and body["status"] == "received"
    assert body["erased_at"] is None and body["organisations"] == []  # no routing rule here
    assert body["consent"] == {
        "police_anonymised": True,
        "police_with_contact": False,
        "support_contact": True,
    }
    assert body["routing"]
    assert_private(response)


def test_a_wrong_code_reference_or_place_gives_the_same_404(client, world, sent):
    reference, code = sent
    answers = [
        follow_up(client, reference, "H2ZC-8RTB-W4KQ-N6PE-5YJD"),
        follow_up(client, "K7QD-3MXA", code),
        follow_up(client, reference, code, slug="beta"),
    ]
    bodies = [assert_error(response, 404, "not_found") for response in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert_error(change_consent(client, reference, code, slug="beta"), 404, "not_found")


def test_consent_can_be_changed_and_each_change_is_kept(client, world, in_place, sent):
    reference, code = sent
    response = change_consent(client, reference, code, police_with_contact=True)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "police_anonymised": True,
        "police_with_contact": True,
        "support_contact": False,
    }
    assert_private(response)
    with in_place(world.a.place):
        report = Report.objects.get()
        assert report.consent_police_with_contact and not report.consent_support_contact
        assert ConsentChange.objects.filter(report=report).count() == 2


def test_police_with_contact_needs_contact_details(client, world, in_place):
    body = {k: v for k, v in BODY.items() if k not in ("contact", "wants_email_updates")}
    sent = send(client, body | {"consent_support_contact": False}).json()
    response = change_consent(
        client, sent["reference"], sent["followup_code"], police_with_contact=True
    )
    assert list(assert_error(response, 422, "validation_error")["fields"]) == ["consent"]
    with in_place(world.a.place):
        assert not Report.objects.get().consent_police_with_contact


def test_consent_needs_every_flag(client, sent):
    reference, code = sent
    response = client.post(
        f"{API}/places/alpha/reports/follow-up/consent",
        {"reference": reference, "code": code, "police_anonymised": True},
        content_type="application/json",
    )
    assert {"police_with_contact", "support_contact"} <= set(assert_error(response, 422)["fields"])


# --- the document --------------------------------------------------------------------------


def test_openapi_lists_the_endpoints_with_their_errors(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    expected = {
        ("get", "/api/v1/places/{place_slug}/taxonomy"): {"404", "422"},
        ("post", "/api/v1/places/{place_slug}/reports"): {
            "400",
            "404",
            "409",
            "413",
            "422",
            "429",
        },
        ("post", "/api/v1/places/{place_slug}/reports/follow-up"): {
            "400",
            "404",
            "413",
            "422",
            "429",
        },
        ("post", "/api/v1/places/{place_slug}/reports/follow-up/consent"): {
            "400",
            "404",
            "410",
            "413",
            "422",
            "429",
        },
    }
    for (method, path), errors in expected.items():
        operation = paths[path][method]
        assert operation["tags"] == ["reports"] and "security" not in operation
        declared = {status for status in operation["responses"] if status.startswith("4")}
        assert declared == errors, (path, declared)
    send_operation = paths["/api/v1/places/{place_slug}/reports"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in send_operation["parameters"]]
    assert "returned once" in send_operation["description"]


def test_the_api_throttles_guesses_on_one_reference_across_clients(client, world, settings):
    settings.LOCUS_RATE_LIMITS = {**settings.LOCUS_RATE_LIMITS, "followup.reference": "2/h"}
    body = send(client).json()
    for n in range(2):
        response = client.post(
            f"{API}/places/alpha/reports/follow-up",
            {"reference": body["reference"], "code": "WRONG"},
            content_type="application/json",
            REMOTE_ADDR=f"203.0.113.{n}",
        )
        assert response.status_code == 404
    response = client.post(
        f"{API}/places/alpha/reports/follow-up",
        {"reference": body["reference"], "code": body["followup_code"]},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.50",
    )
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
