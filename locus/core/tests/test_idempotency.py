"""Idempotent submissions: replay, 422 on another payload, 409 while in flight, release on
failure, per-place keys, expiry, abandoned claims, HTML forms and the canonical hashes."""

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.api.idempotency import request_hash
from locus.core import idempotency
from locus.core.errors import ValidationFailed
from locus.core.idempotency import (
    ClaimLost,
    InvalidIdempotencyKey,
    RequestInFlight,
    hash_form,
    hash_json,
    idempotency_guard,
    idempotency_purge_expired,
    normalize_key,
)
from locus.core.models import IdempotencyKey, Job
from locus.core.services import job_create
from locus.core.tests.idempotency_urls import STATE

URLS = "locus.core.tests.idempotency_urls"
API = "/api/test-idempotency"


@pytest.fixture(autouse=True)
def _reset_state():
    STATE.update(fail=False, wait=0.0, steal=False)
    yield
    STATE.update(fail=False, wait=0.0, steal=False)


def submit(client, slug="alpha", key="key-1", **body):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        f"{API}/places/{slug}/submit",
        json.dumps(body or {"title": "First"}),
        content_type="application/json",
        headers=headers,
    )


def jobs(in_place, place):
    with in_place(place):
        return list(Job.objects.values_list("title", flat=True))


def keys(in_place, place):
    with in_place(place):
        return list(IdempotencyKey.objects.all())


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "fields"}
    assert body["code"] == code and body["message"]
    return body


def in_flight_row(in_place, place, *, scope, key, request_hash, lease=timedelta(minutes=1)):
    now = timezone.now()
    with in_place(place):
        return IdempotencyKey.objects.create(
            place=place,
            scope=scope,
            key=key,
            request_hash=request_hash,
            claim_token="other-process",
            lease_expires_at=now + lease,
        )


def api_hash(slug="alpha", **body):
    request = RequestFactory().post(
        f"{API}/places/{slug}/submit",
        json.dumps(body or {"title": "First"}),
        content_type="application/json",
    )
    return request_hash(request)


# --- the API ---------------------------------------------------------------------------------


@pytest.mark.urls(URLS)
def test_same_key_and_payload_does_the_work_once_and_replays_the_first_response(
    world, client, in_place
):
    first = submit(client)
    second = submit(client)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() == {"job_id": first.json()["job_id"]}
    assert jobs(in_place, world.a.place) == ["First"]
    (row,) = keys(in_place, world.a.place)
    assert row.status == IdempotencyKey.Status.COMPLETED
    assert row.response_status == 201 and row.response_body == first.json()
    assert "First" not in json.dumps(row.response_body)  # the payload itself is not stored


@pytest.mark.urls(URLS)
def test_same_key_with_another_payload_is_422_naming_the_header(world, client, in_place):
    assert submit(client).status_code == 201
    body = assert_error(submit(client, title="Changed"), 422, "idempotency_key_reused")
    assert list(body["fields"]) == ["Idempotency-Key"]
    assert jobs(in_place, world.a.place) == ["First"]


@pytest.mark.urls(URLS)
def test_a_request_in_flight_gives_409_with_retry_after(world, client, in_place):
    hashed = api_hash()
    in_flight_row(in_place, world.a.place, scope="test.submit", key="key-1", request_hash=hashed)
    response = submit(client)
    assert_error(response, 409, "request_in_flight")
    assert response["Retry-After"] == "1"
    assert jobs(in_place, world.a.place) == []


@pytest.mark.urls(URLS)
def test_an_abandoned_claim_is_taken_over_once_its_lease_ran_out(world, client, in_place):
    in_flight_row(
        in_place,
        world.a.place,
        scope="test.submit",
        key="key-1",
        request_hash=api_hash(),
        lease=-timedelta(seconds=1),
    )
    assert submit(client).status_code == 201
    assert jobs(in_place, world.a.place) == ["First"]


@pytest.mark.urls(URLS)
def test_a_failure_releases_the_key_and_rolls_back_the_work(world, client, in_place):
    STATE["fail"] = True
    assert_error(submit(client), 400, "work_failed")
    assert jobs(in_place, world.a.place) == []
    assert keys(in_place, world.a.place) == []
    STATE["fail"] = False
    assert submit(client).status_code == 201
    assert jobs(in_place, world.a.place) == ["First"]


@pytest.mark.urls(URLS)
def test_a_request_whose_claim_was_taken_over_rolls_back_and_answers_409(world, client, in_place):
    STATE["steal"] = True
    response = submit(client)
    assert_error(response, 409, "request_in_flight")
    assert response["Retry-After"] == "1"
    assert jobs(in_place, world.a.place) == []
    # (Here the "takeover" was rolled back with the work; in production it is another
    # request's committed claim, and this client's retry gets that request's result.)
    STATE["steal"] = False
    assert submit(client).status_code == 201
    assert jobs(in_place, world.a.place) == ["First"]


@pytest.mark.urls(URLS)
def test_keys_are_per_place(world, client, in_place):
    alpha, beta = submit(client, "alpha"), submit(client, "beta")
    assert alpha.status_code == beta.status_code == 201
    assert alpha.json() != beta.json()
    assert jobs(in_place, world.a.place) == jobs(in_place, world.b.place) == ["First"]


@pytest.mark.urls(URLS)
def test_an_expired_key_can_be_used_again(world, client, in_place):
    assert submit(client).status_code == 201
    with in_place(world.a.place):
        IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    second = submit(client, title="Second")
    assert second.status_code == 201
    assert sorted(jobs(in_place, world.a.place)) == ["First", "Second"]
    (row,) = keys(in_place, world.a.place)
    assert row.response_body == second.json() and row.expires_at > timezone.now()


@pytest.mark.urls(URLS)
@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there"])
def test_a_malformed_key_is_422(world, client, key):
    body = assert_error(submit(client, key=key), 422, "invalid_idempotency_key")
    assert list(body["fields"]) == ["Idempotency-Key"]


@pytest.mark.urls(URLS)
def test_without_a_key_every_request_does_the_work(world, client, in_place):
    assert submit(client, key=None).status_code == submit(client, key=None).status_code == 201
    assert jobs(in_place, world.a.place) == ["First", "First"]


def test_keys_are_printable_ascii_up_to_255_and_may_be_quoted():
    assert normalize_key(" abc ") == "abc"
    assert normalize_key('"8e03978e-40d5"') == "8e03978e-40d5"
    assert normalize_key("~" * 255) == "~" * 255
    for bad in ["", "  ", "x" * 256, "a\x7fb", "line\nbreak", "ümlaut"]:
        with pytest.raises(InvalidIdempotencyKey):
            normalize_key(bad)


# --- the guard -------------------------------------------------------------------------------


def guard(place, key="k", request_hash="h1"):
    return idempotency_guard(place=place, scope="test", key=key, request_hash=request_hash)


def test_a_completion_rolls_back_with_the_work_and_the_key_is_released(world, in_place):
    place = world.a.place
    with in_place(place):
        # The work's transaction inside the guard, as in production code.
        with pytest.raises(RuntimeError, match="after"), guard(place) as g, transaction.atomic():
            job_create(place=place, kind="test", title="Work")
            g.complete(status=201, body={"job_id": 1})
            raise RuntimeError("after the completion")
        assert not IdempotencyKey.objects.exists() and not Job.objects.exists()
        with guard(place) as g:
            assert g.replay is None
            g.complete(status=201, body={"job_id": 2})
        with guard(place) as g:
            assert g.replay == (201, {"job_id": 2})


def test_leaving_without_completing_releases_the_key(world, in_place):
    with in_place(world.a.place):
        with guard(world.a.place) as g:
            assert g.replay is None
        assert not IdempotencyKey.objects.exists()


def test_a_claim_taken_over_cannot_be_completed_by_its_first_holder(world, in_place):
    place = world.a.place
    with in_place(place):
        slow = guard(place)
        slow.claim()
        IdempotencyKey.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        with guard(place) as retry:
            retry.complete(status=201, body={"job_id": 1})
        with pytest.raises(ClaimLost):
            slow.complete(status=201, body={"job_id": 2})
        slow.close()
        assert IdempotencyKey.objects.get().response_body == {"job_id": 1}


def test_a_live_claim_is_409_for_the_guard_too(world, in_place):
    with in_place(world.a.place):
        first = guard(world.a.place)
        first.claim()
        with pytest.raises(RequestInFlight) as caught:
            guard(world.a.place).claim()
        assert caught.value.status == 409 and caught.value.retry_after == 1
        first.close()


def test_another_payload_raises_validation_failed(world, in_place):
    with in_place(world.a.place):
        with guard(world.a.place) as g:
            g.complete(status=201, body={})
        with pytest.raises(ValidationFailed) as caught:
            guard(world.a.place, request_hash="h2").claim()
        assert caught.value.code == "idempotency_key_reused"
        assert list(caught.value.fields) == ["Idempotency-Key"]


def test_purge_deletes_expired_keys_in_every_place(world, in_place):
    past = timezone.now() - timedelta(seconds=1)
    for place in (world.a.place, world.b.place):
        with in_place(place):
            for key in ("old", "new"):
                with guard(place, key=key) as g:
                    g.complete(status=201, body={})
            IdempotencyKey.objects.filter(key="old").update(expires_at=past)
    assert idempotency_purge_expired() == 2
    for place in (world.a.place, world.b.place):
        assert [k.key for k in keys(in_place, place)] == ["new"]


# --- HTML forms ------------------------------------------------------------------------------


FORM = "/alpha/test-form/"


def token_in(html):
    return re.search(r'name="idempotency_token" value="([0-9a-f]{32})"', html).group(1)


@pytest.mark.urls(URLS)
def test_each_render_carries_a_new_token(world, client):
    assert token_in(client.get(FORM).text) != token_in(client.get(FORM).text)


@pytest.mark.urls(URLS)
def test_a_double_submitted_form_is_processed_once_and_both_redirect_to_the_receipt(
    world, client, in_place
):
    data = {"title": "Report", "idempotency_token": token_in(client.get(FORM).text)}
    first, second = client.post(FORM, data), client.post(FORM, data)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert re.fullmatch(r"/alpha/receipt/\d+/", first["Location"])
    assert jobs(in_place, world.a.place) == ["Report"]


@pytest.mark.urls(URLS)
def test_a_duplicate_waits_for_the_first_submission_and_then_replays_it(
    world, client, in_place, monkeypatch
):
    STATE["wait"] = 5.0
    data = {"title": "Report", "idempotency_token": "t" * 32}
    row = in_flight_row(
        in_place,
        world.a.place,
        scope="test.form",
        key="t" * 32,
        request_hash=hash_form(data),
    )

    def first_finishes(seconds):
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status=IdempotencyKey.Status.COMPLETED,
            response_status=303,
            response_body={"location": "/alpha/receipt/7/"},
        )

    monkeypatch.setattr(idempotency, "sleep", first_finishes)
    response = client.post(FORM, data)
    assert response.status_code == 303 and response["Location"] == "/alpha/receipt/7/"


@pytest.mark.urls(URLS)
def test_a_duplicate_still_in_flight_after_the_wait_gets_a_reassuring_409_page(
    world, client, in_place
):
    data = {"title": "Report", "idempotency_token": "t" * 32}
    in_flight_row(
        in_place,
        world.a.place,
        scope="test.form",
        key="t" * 32,
        request_hash=hash_form(data),
    )
    response = client.post(FORM, data)
    assert response.status_code == 409 and response["Retry-After"] == "1"
    assert "nothing has been lost" in response.text
    assert jobs(in_place, world.a.place) == []


@pytest.mark.urls(URLS)
def test_the_same_token_with_other_content_is_refused_and_the_form_gets_a_new_token(
    world, client, in_place
):
    token = token_in(client.get(FORM).text)
    assert client.post(FORM, {"title": "Report", "idempotency_token": token}).status_code == 303
    response = client.post(FORM, {"title": "Edited", "idempotency_token": token})
    assert response.status_code == 422
    assert "already sent with different details" in response.text
    assert 'value="Edited"' in response.text  # what the person typed is kept
    assert token_in(response.text) != token
    retry = {"title": "Edited", "idempotency_token": token_in(response.text)}
    assert client.post(FORM, retry).status_code == 303
    assert sorted(jobs(in_place, world.a.place)) == ["Edited", "Report"]


@pytest.mark.urls(URLS)
def test_a_form_whose_claim_was_taken_over_rolls_back_and_asks_to_reload(world, client, in_place):
    STATE["steal"] = True
    data = {"title": "Report", "idempotency_token": token_in(client.get(FORM).text)}
    response = client.post(FORM, data)
    assert response.status_code == 409 and "still being processed" in response.text
    assert jobs(in_place, world.a.place) == []


@pytest.mark.urls(URLS)
def test_an_invalid_form_releases_its_token(world, client, in_place):
    token = token_in(client.get(FORM).text)
    assert client.post(FORM, {"title": "", "idempotency_token": token}).status_code == 422
    assert keys(in_place, world.a.place) == []
    assert client.post(FORM, {"title": "Fixed", "idempotency_token": token}).status_code == 303


@pytest.mark.urls(URLS)
def test_a_form_without_a_token_still_works(world, client, in_place):
    assert client.post(FORM, {"title": "Old page"}).status_code == 303
    assert jobs(in_place, world.a.place) == ["Old page"]


# --- canonical hashes ------------------------------------------------------------------------

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=15,
)
objects = st.dictionaries(st.text(max_size=5), json_values, min_size=1, max_size=6)


def reordered(value, rnd):
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: reordered(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [reordered(v, rnd) for v in value]
    return value


def same(a, b):
    """Equal as JSON values: same type and value all the way down (1 is not 1.0 nor True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@PROPERTY
@given(objects, st.randoms(use_true_random=False))
def test_key_order_never_changes_the_hash(data, rnd):
    assert hash_json(reordered(data, rnd)) == hash_json(data)


@PROPERTY
@given(objects, st.data())
def test_any_value_change_changes_the_hash(data, draw):
    changed = json.loads(json.dumps(data))  # a deep copy
    node = changed
    while True:  # walk down to a random container and replace one of its entries
        keys_ = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw.draw(st.sampled_from(keys_))
        child = node[key]
        if isinstance(child, dict | list) and child and draw.draw(st.booleans()):
            node = child
            continue
        new = draw.draw(json_values)
        node[key] = new
        break
    if same(json.loads(json.dumps(data)), changed):
        return  # the "change" put back an equal value
    assert hash_json(changed) != hash_json(data)


@PROPERTY
@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=4), st.text(max_size=6)), max_size=8),
    st.randoms(use_true_random=False),
)
def test_form_item_order_never_changes_the_hash(pairs, rnd):
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    first, second = QueryDict(mutable=True), QueryDict(mutable=True)
    for name, value in pairs:
        first.appendlist(name, value)
    for name, value in shuffled:
        second.appendlist(name, value)
    assert hash_form(first) == hash_form(second)
    if pairs:
        name, value = pairs[0]
        third = first.copy()
        third.appendlist(name, value + "!")
        assert hash_form(third) != hash_form(first)


def test_form_hash_leaves_out_the_tokens_and_counts_files_by_content():
    def form(token, csrf):
        return QueryDict(f"title=A&idempotency_token={token}&csrfmiddlewaretoken={csrf}")

    assert hash_form(form("1", "x")) == hash_form(form("2", "y"))

    def files(content, name="photo.jpg"):
        from django.utils.datastructures import MultiValueDict

        return MultiValueDict({"photo": [SimpleUploadedFile(name, content)]})

    data = QueryDict("title=A")
    assert hash_form(data, files(b"one")) == hash_form(data, files(b"one", "renamed.jpg"))
    assert hash_form(data, files(b"one")) != hash_form(data, files(b"two"))
    assert hash_form(data, files(b"one")) != hash_form(data)


def test_json_and_form_payloads_never_share_a_hash():
    assert hash_json({"fields": [["title", "A"]], "files": []}) != hash_form(QueryDict("title=A"))
