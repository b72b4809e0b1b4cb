"""The intake hot path (docs/operations.md, "Intake"): a submission's statement budget, the
idempotency key recorded in the submission's own transaction (replay, 422, 409, nothing left
behind by a failure), the prepared inserts writing exactly what the ORM writes, and the
routing task row."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from locus.api.idempotency import request_hash
from locus.core.idempotency import PreparedInsert
from locus.core.models import IdempotencyKey
from locus.core.tenancy import CrossPlaceWrite
from locus.reporting import intake, references, services
from locus.reporting.models import ConsentChange, Report
from locus.reporting.tests.test_api import BODY, assert_error, send
from locus.reporting.tests.test_journey import hidden, walk_to_check

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# On PostgreSQL the key's advisory lock comes first (a duplicate in flight answers 409).
KEY_LOCK = ["SELECT advisory lock"] if connection.vendor == "postgresql" else []


def statements(captured):
    """The statements a request ran, as "VERB table", without the savepoints of the test's
    own transaction (in production the submission's transaction is the outermost one)."""
    found = []
    for query in captured:
        sql = query["sql"]
        if re.match(r"(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN)\b", sql):
            continue
        if "pg_try_advisory_xact_lock" in sql:
            found.append("SELECT advisory lock")
            continue
        verb = sql.split()[0].upper()
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
        found.append(f"{verb} {table[1] if table else '?'}")
    return found


# The submission's rate limit (locus/core/ratelimit.py): the client's counts are read before;
# the new count is written in the submission's transaction (a deferred count).
RATE_READ = ["SELECT core_ratecount"]
RATE_COUNT = [*RATE_READ, "INSERT core_ratecount"]


def savepoints(captured):
    return [q["sql"] for q in captured if q["sql"].startswith("SAVEPOINT")]


def reports(in_place, place):
    with in_place(place):
        return list(Report.objects.all())


# --- the statement budget ------------------------------------------------------------------


@override_settings(TASKS=DATABASE_QUEUE)
def test_an_api_submission_is_one_place_lookup_and_four_inserts(client, world, in_place):
    send(client, key="warm-up")  # first-request costs (imports, caches) are not the budget
    with CaptureQueriesContext(connection) as captured:
        response = send(client, key="budget")
    assert response.status_code == 201, response.content
    assert statements(captured) == [
        "SELECT places_place",  # the place of the URL (cached in production, off in tests)
        *RATE_READ,
        *KEY_LOCK,
        "INSERT core_idempotencykey",  # the key, completed, in the report's transaction
        "INSERT reporting_report",
        "INSERT reporting_consentchange",
        "INSERT django_tasks_database_dbtaskresult",  # the worker routes it
        "INSERT core_ratecount",  # the client's count, committed with the report
    ]
    # One transaction, no inner savepoint (the other is the rate read's, inside the test's
    # transaction; as served it is a plain read).
    assert len(savepoints(captured.captured_queries)) == 1 + 1
    assert response.json()["routing_pending"] is True


@override_settings(TASKS=DATABASE_QUEUE)
def test_encryption_and_the_key_s_row_are_ready_before_the_transaction(client, world, monkeypatch):
    """The report's personal fields are encrypted, and the key's row is built, before the
    submission's transaction begins: on SQLite it holds the writers' queue, which every other
    submission waits for, so it runs only the statements."""
    from locus.core import crypto, idempotency

    depth = []  # open atomic blocks at each step; the test's own transaction is one of them

    def noting(step, function):
        def wrapper(*args, **kwargs):
            depth.append((step, len(connection.atomic_blocks)))
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(crypto, "encrypt_bytes", noting("encrypt", crypto.encrypt_bytes))
    monkeypatch.setattr(idempotency, "_new_token", noting("key row", idempotency._new_token))
    monkeypatch.setattr(intake.REPORT, "_statement", noting("insert", intake.REPORT._statement))
    send(client, key="warm-up")
    depth.clear()
    response = send(client, key="ready")
    assert response.status_code == 201, response.content
    outside = len(connection.atomic_blocks)  # the test's transaction
    steps = {step for step, _ in depth}
    assert steps == {"encrypt", "key row", "insert"}
    assert all(level == outside for step, level in depth if step != "insert")
    assert all(level == outside + 1 for step, level in depth if step == "insert")


@override_settings(TASKS=DATABASE_QUEUE)
def test_the_web_journey_s_last_step_has_a_fixed_budget(client, world, in_place):
    place = world.a.place
    check = walk_to_check(client, place, world.a.areas[0])
    data = hidden(check) | {"action": "send"}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/{place.slug}/report/", data)
    assert response.status_code == 303, response.content[:500]
    found = statements(captured)
    submission = [
        *KEY_LOCK,
        "INSERT core_idempotencykey",
        "INSERT reporting_report",
        "INSERT reporting_consentchange",
        "INSERT django_tasks_database_dbtaskresult",
        "INSERT core_ratecount",  # the client's count, committed with the report
    ]
    start = found.index(submission[0])
    assert found[start : start + len(submission)] == submission
    # Before: the browser's session (given on the check page, so that both clicks of a double
    # click share it), the place, the area and the staged files the form checks; after:
    # routing at once (the receipt shows it) and the session holding the code.
    assert found[:start] == [
        "SELECT django_session",
        "SELECT places_place",
        *RATE_READ,
        "SELECT places_area",
        "SELECT reporting_evidence",
    ]
    assert len(found) <= 15 + len(KEY_LOCK) + len(RATE_COUNT), found
    assert found.count("INSERT core_ratecount") == 1, found
    assert found[-1] == "UPDATE django_session", found  # the first thing it keeps


# --- idempotency in the submission's transaction ---------------------------------------------


def test_a_retry_replays_and_stores_the_key_completed_with_the_reference_only(
    client, world, in_place
):
    first = send(client, key="k-1")
    again = send(client, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["followup_code"] is None
    with in_place(world.a.place):
        (row,) = IdempotencyKey.objects.all()
        assert row.status == IdempotencyKey.Status.COMPLETED and row.response_status == 201
        assert row.response_body == {"reference": first.json()["reference"]}
    assert len(reports(in_place, world.a.place)) == 1


def test_a_key_still_claimed_by_another_process_is_409_with_retry_after(client, world, in_place):
    """A claim left in flight by the two-step guard (another process, or a version of Locus
    before the key moved into the submission's transaction) is honoured until its lease ends."""
    same_request = RequestFactory().post(
        "/api/v1/places/alpha/reports", json.dumps(BODY), content_type="application/json"
    )
    with in_place(world.a.place):
        IdempotencyKey.objects.create(
            place=world.a.place,
            scope="report.submit",
            key="busy",
            request_hash=request_hash(same_request),
            claim_token="other-process",
            lease_expires_at=timezone.now() + timedelta(minutes=1),
        )
    response = send(client, key="busy")
    assert_error(response, 409, "request_in_flight")
    assert response["Retry-After"] == "1"
    assert not reports(in_place, world.a.place)


def test_an_abandoned_claim_or_an_expired_key_lets_the_request_through(client, world, in_place):
    past = timezone.now() - timedelta(minutes=5)
    with in_place(world.a.place):
        for key, hashed, expires in (
            ("abandoned", "?", timezone.now() + timedelta(hours=1)),
            ("expired", "other", past),
        ):
            IdempotencyKey.objects.create(
                place=world.a.place,
                scope="report.submit",
                key=key,
                request_hash=hashed,
                claim_token="dead-process",
                lease_expires_at=past,
                expires_at=expires,
            )
    abandoned = send(client, key="abandoned")
    # The abandoned claim had another hash: it is a 422 only while alive. Dead: forgotten.
    assert abandoned.status_code == 201, abandoned.content
    assert send(client, key="expired").status_code == 201
    assert len(reports(in_place, world.a.place)) == 2
    with in_place(world.a.place):
        assert set(IdempotencyKey.objects.values_list("status", flat=True)) == {"completed"}


def test_nothing_is_kept_when_the_transaction_fails_after_the_report(
    client, world, in_place, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("the queue is down")

    monkeypatch.setattr(intake, "enqueue_routing", broken)
    client.raise_request_exception = False
    assert send(client, key="lost").status_code == 500
    with in_place(world.a.place):
        assert not Report.objects.exists()
        assert not ConsentChange.objects.exists()
        assert not IdempotencyKey.objects.exists()  # a retry can go ahead
    monkeypatch.undo()
    assert send(client, key="lost").status_code == 201


def test_a_clash_of_references_is_retried_with_another_one(client, world, in_place, monkeypatch):
    first = send(client).json()["reference"]
    drawn = iter([first, "ZZZZ-ZZZZ"])
    monkeypatch.setattr(references, "new_reference", lambda: next(drawn))
    second = send(client, key="clash")
    assert second.status_code == 201 and second.json()["reference"] == "ZZZZ-ZZZZ"
    with in_place(world.a.place):
        assert sorted(Report.objects.values_list("reference", flat=True)) == sorted(
            [first, "ZZZZ-ZZZZ"]
        )
        assert ConsentChange.objects.count() == 2
        assert IdempotencyKey.objects.get(key="clash").response_body == {"reference": "ZZZZ-ZZZZ"}


def test_a_double_click_on_send_makes_one_report_and_both_land_on_its_receipt(
    client, world, in_place
):
    place = world.a.place
    data = hidden(walk_to_check(client, place, world.a.areas[0])) | {"action": "send"}
    first = client.post(f"/{place.slug}/report/", data)
    second = client.post(f"/{place.slug}/report/", data)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert len(reports(in_place, place)) == 1
    # The same pass through the form sent again with another answer: its report exists, so
    # the person lands on its receipt, told that nothing was sent this time.
    changed = dict(data) | {"you-reporter_role": ["witness"]}
    again = client.post(f"/{place.slug}/report/", changed)
    assert again.status_code == 303 and again["Location"] == first["Location"]
    assert "was not sent again" in client.get(again["Location"]).content.decode()
    assert len(reports(in_place, place)) == 1


def test_a_double_click_whose_first_answer_the_browser_dropped_still_shows_receipt_and_code(
    client, world, in_place
):
    """On a double click the browser drops the first click's answer, which set the session
    cookie holding the receipt and the code: the check page gives the browser its session
    first, so the second click's replay leads to a receipt this browser can open, with the
    code shown once."""
    from django.test import Client

    place = world.a.place
    check = walk_to_check(client, place, world.a.areas[0])
    data = hidden(check) | {"action": "send"}
    browser = Client()  # the same browser, which never saw the first click's answer
    browser.cookies = client.cookies.__class__(client.cookies)

    first = client.post(f"/{place.slug}/report/", data)
    second = browser.post(f"/{place.slug}/report/", data)

    assert second.status_code == 303 and second["Location"] == first["Location"]
    receipt = browser.get(second["Location"])
    assert receipt.status_code == 200
    (report,) = reports(in_place, place)
    assert report.reference in receipt.content.decode()
    assert 'id="followup-code"' in receipt.content.decode()


def test_a_replay_waits_for_the_first_click_to_save_the_receipt_in_the_session(world, monkeypatch):
    from importlib import import_module

    from django.conf import settings
    from django.urls import reverse

    from locus.core import idempotency
    from locus.reporting import views

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    place = world.a.place
    session = store_class()
    session[f"reporting.journey.{place.pk}"] = 1
    session.create()
    location = reverse(
        "reporting:receipt", kwargs={"place_slug": place.slug, "reference": "K7QD-3MXA"}
    )
    request = RequestFactory().post(f"/{place.slug}/report/")
    request.session = store_class(session_key=session.session_key)
    clock, polls = [0.0], []

    def sleep(seconds):  # meanwhile the first click's request saves the session
        polls.append(seconds)
        clock[0] += seconds
        if len(polls) == 3:
            first = store_class(session_key=session.session_key)
            first[f"reporting.receipts.{place.pk}"] = ["K7QD-3MXA"]
            first.save()

    monkeypatch.setattr(idempotency, "sleep", sleep)
    monkeypatch.setattr(idempotency, "monotonic", lambda: clock[0])

    views._wait_for_receipt(request, place, location)
    assert len(polls) == 3  # it returned as soon as the receipt was there
    assert not request.session.modified  # its own session is not saved over the first's

    polls.clear()
    other = reverse(
        "reporting:receipt", kwargs={"place_slug": place.slug, "reference": "ZZZZ-ZZZZ"}
    )
    views._wait_for_receipt(request, place, other)  # never there: gives up after the wait
    assert clock[0] >= idempotency.FORM_WAIT_SECONDS and polls


# --- the prepared inserts ------------------------------------------------------------------


def test_a_prepared_insert_writes_what_the_orm_writes(world, in_place):
    place = world.a.place
    data = {
        "incident_type": "abusive_behaviour",
        "setting": "public_transport",
        "bias": ["anti_muslim"],
        "account": "Shouted at on the 38 bus — “go home”.",
        "location_text": "Upper Street",
        "reporter_role": "victim",
        "occurred_on": timezone.localdate(),
        "police_reference": "CR-1",
        "contact": {"name": "Amal", "email": "amal@example.test"},
        "consent_support_contact": True,
        "area": world.a.areas[0],
    }
    with in_place(place):
        submitted = services.report_submit(place=place, data=data)
        fast = Report.objects.get(pk=submitted.report.pk)
        orm = Report.objects.get(pk=submitted.report.pk)
        orm.pk, orm.reference = None, "ORM0-0000"
        orm.save()
        orm = Report.objects.get(pk=orm.pk)
        ignore = {"_state", "id", "reference"}
        assert {k: v for k, v in vars(fast).items() if k not in ignore} == {
            k: v for k, v in vars(orm).items() if k not in ignore
        }
        assert fast.account == data["account"] and fast.contact == data["contact"]
        with connection.cursor() as cursor:  # encrypted at rest, like the ORM's
            cursor.execute("SELECT account FROM reporting_report WHERE id = %s", [fast.pk])
            (stored,) = cursor.fetchone()
        assert "bus" not in stored and stored.startswith("gAAAA")
        (consent,) = ConsentChange.objects.filter(report=fast)
        assert consent.consent == {
            "police_anonymised": False,
            "police_with_contact": False,
            "support_contact": True,
        }


def test_the_area_lookup_answers_what_area_list_answers(world, in_place):
    from locus.places.selectors import area_list

    place, area = world.a.place, world.a.areas[0]
    with in_place(place):
        found = intake.area_of_place(place=place, area_id=area.pk)
        assert found == area_list(place=place).filter(pk=area.pk).first()
        assert found.place_id == place.pk
        assert found.name == area.name  # a deferred field is read on first use
        assert intake.area_of_place(place=place, area_id=world.b.areas[0].pk) is None
        assert intake.area_of_place(place=place, area_id=10**12) is None


def test_a_prepared_insert_refuses_a_row_of_another_place(world, in_place):
    with in_place(world.b.place), pytest.raises(CrossPlaceWrite):
        PreparedInsert(ConsentChange).insert(
            ConsentChange(place=world.a.place, report_id=1, consent={})
        )


@override_settings(TASKS=DATABASE_QUEUE)
def test_the_task_row_is_the_one_enqueue_writes_and_the_worker_finds_it(world, in_place):
    from django_tasks_db.models import DBTaskResult

    from locus.cases.tasks import route_report

    place = world.a.place
    with in_place(place):
        submitted = services.report_submit(place=place, data=dict(BODY, contact=None))
        assert submitted.routed is False
        fast = DBTaskResult.objects.get()
        route_report.enqueue(place_id=place.pk, report_id=submitted.report.pk)
        slow = DBTaskResult.objects.exclude(pk=fast.pk).get()
    fields = ["status", "args_kwargs", "priority", "task_path", "queue_name", "backend_name"]
    assert [getattr(fast, f) for f in fields] == [getattr(slow, f) for f in fields]
    assert fast.run_after == slow.run_after and fast.worker_ids == slow.worker_ids == []
    assert abs(fast.enqueued_at - slow.enqueued_at) < timedelta(minutes=1)
    assert set(DBTaskResult.objects.ready()) == {fast, slow}
    assert fast.task_result.args == [] and fast.task_result.kwargs == {
        "place_id": place.pk,
        "report_id": submitted.report.pk,
    }
    assert json.dumps(fast.args_kwargs)  # plain JSON


def test_a_double_click_on_a_report_of_files_only_lands_on_its_receipt(client, world, in_place):
    """The first click attaches the staged files to the report: the second page no longer has
    them, and without an account it would not validate. It lands on the receipt instead."""
    from locus.reporting.models import Evidence
    from locus.reporting.tests.test_journey import SHARE, WHAT, YOU, post, report_url, text_file

    place = world.a.place
    page = client.get(report_url(place))
    page = post(client, place, page, WHAT)
    page = post(client, place, page, {"where-setting": "street", "where-area": world.a.areas[0].pk})
    page = post(client, place, page, {"who-bias": ["not_sure"]}, files=[text_file()])
    page = post(client, place, page, YOU)
    check = post(client, place, page, SHARE)
    assert b"Step 6 of 6" in check.content, check.content.decode()[:3000]
    first = post(client, place, check, action="send")
    second = post(client, place, check, action="send")
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    with in_place(place):
        (report,) = Report.objects.all()
        assert report.account == "" and Evidence.objects.filter(report=report).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks: PostgreSQL")
def test_on_postgresql_a_key_being_written_by_another_transaction_is_409(client, world, in_place):
    """Another connection holds the key's advisory lock, as a first submission still in its
    transaction does: the duplicate answers 409 at once instead of waiting."""
    import threading

    from django.db import connections, transaction

    held, done = threading.Event(), threading.Event()
    name = f"locus.idempotency:{world.a.place.pk}:report.submit:busy-pg"

    def first_submission():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
                held.set()
                done.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_submission)
    thread.start()
    try:
        assert held.wait(30)
        response = send(client, key="busy-pg")
    finally:
        done.set()
        thread.join()
    assert_error(response, 409, "request_in_flight")
    assert response["Retry-After"] == "1"
    assert not reports(in_place, world.a.place)


# --- the database busy or briefly unreachable ---------------------------------------------


def _failing_once(monkeypatch, message="database is locked"):
    """Make the report's INSERT fail once as SQLite does past its busy timeout (PostgreSQL
    raises the same class when its server restarts)."""
    from django.db import OperationalError

    original = intake.REPORT.insert
    calls = []

    def insert(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError(message)
        return original(*args, **kwargs)

    monkeypatch.setattr(intake.REPORT, "insert", insert)


def test_an_api_submission_the_database_cannot_take_is_503_and_its_retry_goes_through_once(
    client, world, in_place, monkeypatch
):
    _failing_once(monkeypatch)
    busy = send(client, key="busy")
    assert_error(busy, 503, "service_unavailable")
    assert busy["Retry-After"] == "5"
    with in_place(world.a.place):
        assert not Report.objects.exists() and not IdempotencyKey.objects.exists()
    retried = send(client, key="busy")
    assert retried.status_code == 201, retried.content
    again = send(client, key="busy")  # the answer to the retry was lost: replayed
    assert again.json()["reference"] == retried.json()["reference"]
    assert len(reports(in_place, world.a.place)) == 1


def test_a_web_submission_the_database_cannot_take_keeps_everything_and_its_token(
    client, world, in_place, monkeypatch
):
    from locus.reporting.models import Evidence
    from locus.reporting.tests.test_journey import text_file

    place = world.a.place
    check = walk_to_check(client, place, world.a.areas[0], files=[text_file()])
    sent = hidden(check) | {"action": "send"}
    _failing_once(monkeypatch)

    busy = client.post(f"/{place.slug}/report/", sent)

    assert busy.status_code == 503 and busy["Retry-After"] == "5"
    content = busy.content.decode()
    assert "Your report has not been sent yet" in content and "Step 6 of 6" in content
    assert "<title>Error: Step 6 of 6" in content  # said first, as a refused step says it
    shown = hidden(busy)
    # Every answer, the staged files and the very token just sent are on the page again.
    for name, values in hidden(check).items():
        if name != "csrfmiddlewaretoken":  # masked afresh on every page
            assert shown[name] == values, name
    with in_place(place):
        assert not Report.objects.exists()
        assert Evidence.objects.filter(report=None).count() == 1  # still staged

    again = client.post(f"/{place.slug}/report/", shown | {"action": "send"})
    assert again.status_code == 303 and "/receipt/" in again["Location"]
    # Had the first answer been lost after all, the same page sent once more lands there too.
    once_more = client.post(f"/{place.slug}/report/", shown | {"action": "send"})
    assert once_more.status_code == 303 and once_more["Location"] == again["Location"]
    with in_place(place):
        (report,) = Report.objects.all()
        assert Evidence.objects.get().report_id == report.pk


def test_a_page_or_address_the_database_cannot_serve_is_503_not_500(client, world, monkeypatch):
    """Anywhere else (any page, the API before its operation runs): 503 with Retry-After, the
    API in its JSON error shape; the pages read nothing from the database to say so."""
    from django.db import InterfaceError

    from locus.places import selectors

    def unreachable(slug):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(selectors, "place_for_url", unreachable)
    client.raise_request_exception = False

    page = client.get(f"/{world.a.place.slug}/follow-up/")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "may not have been saved" in page.content.decode()
    api = client.get(f"/api/v1/places/{world.a.place.slug}/taxonomy")
    assert_error(api, 503, "service_unavailable")
    assert api["Retry-After"] == "5"

    # Signed in, with the session store failing too: the error page itself reads nothing.
    from django.contrib.sessions.backends.db import SessionStore

    client.force_login(world.a.users["caseworker"])
    monkeypatch.setattr(SessionStore, "_get_session_from_db", unreachable)
    page = client.get(f"/{world.a.place.slug}/follow-up/")
    assert page.status_code == 503 and "may not have been saved" in page.content.decode()

    monkeypatch.undo()
    monkeypatch.setattr(selectors, "place_for_url", lambda slug: 1 / 0)
    assert client.get(f"/{world.a.place.slug}/follow-up/").status_code == 500
    assert_error(client.get(f"/api/v1/places/{world.a.place.slug}/taxonomy"), 500, "server_error")


# --- the rate count in the submission's transaction ------------------------------------------


@override_settings(LOCUS_RATE_LIMITS={"report.submit": "4/h"})
def test_every_submission_counts_once_whether_stored_refused_or_replayed(client, world, in_place):
    """The API writes a stored submission's rate count in its transaction; one that stores
    nothing (a 422, a replay of a key, a reference clash's rolled-back attempt) is counted on
    its own afterwards, so every request counts exactly once and the limit holds."""
    from locus.core.models import RateCount

    def counted():
        return sum(RateCount.objects.values_list("count", flat=True))

    assert send(client, key="first").status_code == 201
    assert counted() == 1
    assert send(client, BODY | {"incident_type": "nonsense"}).status_code == 422
    assert counted() == 2
    assert send(client, key="first").status_code == 201  # the replay: nothing stored
    assert counted() == 3
    assert send(client).status_code == 201
    assert counted() == 4
    refused = send(client)
    assert refused.status_code == 429 and counted() == 4  # refused: not counted
    assert len(reports(in_place, world.a.place)) == 2
    # Past the limit, a body that does not even parse is refused before it is read.
    assert send(client, {}).status_code == 429


@override_settings(LOCUS_RATE_LIMITS={"report.submit": "2/h", "followup.open": "2/h"})
def test_a_body_the_schema_refuses_counts_too(client, world):
    """ninja validates the body before it calls the operation: the limit wraps its whole run,
    so a client cannot send bodies that fail the schema without bound."""
    from locus.core.models import RateCount

    assert send(client, {}).status_code == 422
    assert send(client, {"account": 5}).status_code == 422
    assert sum(RateCount.objects.values_list("count", flat=True)) == 2
    assert send(client, BODY).status_code == 429
    follow_up = f"/api/v1/places/{world.a.place.slug}/reports/follow-up"
    for status in (422, 422, 429):
        response = client.post(follow_up, {"reference": 5}, content_type="application/json")
        assert response.status_code == status, response.content


@override_settings(LOCUS_RATE_LIMITS={"report.submit": "10/h"})
def test_a_rolled_back_submission_still_counts(client, world, in_place, monkeypatch):
    """When the submission's transaction rolls back after its count was written in it, the
    count is written again on its own: a failing submission is not free."""
    from locus.core.models import RateCount
    from locus.core.ratelimit import DeferredCount

    written = DeferredCount.write_in_transaction

    def write_then_fail(self):
        written(self)
        raise RuntimeError("the commit failed")

    monkeypatch.setattr(DeferredCount, "write_in_transaction", write_then_fail)
    client.raise_request_exception = False
    assert send(client).status_code == 500
    assert list(RateCount.objects.values_list("count", flat=True)) == [1]
    assert not reports(in_place, world.a.place)


@override_settings(LOCUS_RATE_LIMITS={"report.submit": "3/h"})
def test_every_click_on_send_counts_once_stored_or_replayed(client, world, in_place):
    """The web journey's last step writes its count in the submission's transaction too; the
    second click of a double click stores nothing and is counted on its own afterwards."""
    from locus.core.models import RateCount

    def counted():
        return sum(RateCount.objects.values_list("count", flat=True))

    place = world.a.place
    data = hidden(walk_to_check(client, place, world.a.areas[0])) | {"action": "send"}
    assert client.post(f"/{place.slug}/report/", data).status_code == 303
    assert counted() == 1
    assert client.post(f"/{place.slug}/report/", data).status_code == 303  # replayed
    assert counted() == 2
    assert len(reports(in_place, place)) == 1
    assert client.post(f"/{place.slug}/report/", data).status_code == 303
    assert counted() == 3
    refused = client.post(f"/{place.slug}/report/", data)
    assert refused.status_code == 429 and counted() == 3
    assert len(reports(in_place, place)) == 1
