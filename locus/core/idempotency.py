"""Idempotent submissions (QUALITY.md, "Load and faults").

A submission may carry an idempotency key (API: the `Idempotency-Key` header; HTML forms: a
hidden token rendered afresh on every page). The same key with the same payload gets the first
result again; with another payload a 422; while the first is still being processed a 409 with
`Retry-After: 1`. Keys are per place and scope and are forgotten after `DEFAULT_TTL`.

    with idempotency_guard(place=place, scope="report.submit", key=key, request_hash=h) as guard:
        if guard.replay:
            return guard.replay              # (status, body) of the first response
        with transaction.atomic():
            receipt = report_submit(...)
            guard.complete(status=201, body={"receipt": receipt.code})
        return 201, {"receipt": receipt.code}

Ordering — why this shape:

1. The claim (an `in_flight` row) is inserted in its own short transaction *before* the work,
   so a concurrent duplicate sees it at once and gets a 409. Enter the guard outside any
   `transaction.atomic()` block: inside one, the claim only becomes visible when that outer
   transaction commits (duplicates then wait on the unique index instead of getting a 409).
2. The work and `complete()` run in the same transaction, opened by the caller inside the
   guard. `complete()` is a compare-and-set UPDATE of the claim row in whatever transaction is
   open, so the result and its completion commit together or not at all: there is no moment at
   which the work is saved but the key still says "in flight" (or says "completed" for work
   that was rolled back). If the claim was taken over meanwhile (see 4), `complete()` raises
   `ClaimLost` so that the caller's transaction — the duplicate work — rolls back.
3. Leaving the block with an exception, or without `complete()` (the work was refused, e.g.
   an invalid form), releases the claim: the row is deleted so that a corrected retry can go
   ahead. A completed row is never released.
4. A process killed mid-work leaves its claim behind. The claim holds a lease
   (`DEFAULT_LEASE`): once it has run out, a retry takes the claim over instead of getting 409
   until the key expires.

What is stored: the key, a SHA-256 of the canonical payload (never the payload), and the
`(status, body)` to replay. Callers store only what the first response already showed — the
result's reference and receipt ids — never the submitted content or other personal data.
"""

import hashlib
import json
import logging
import time
import uuid
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from functools import cache
from typing import Any, NamedTuple

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import DatabaseError, IntegrityError, models, transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ApplicationError, ValidationFailed, error_page
from .tenancy import CrossPlaceWrite, get_active_place, place_scope

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_token"
KEY_MAX_LENGTH = 255
DEFAULT_TTL = timedelta(hours=24)
DEFAULT_LEASE = timedelta(minutes=2)
RETRY_AFTER_SECONDS = 1
# How long an HTML form's duplicate (a double click) waits for the first submission to finish
# before showing the "still processing" page. The browser shows only the last response.
FORM_WAIT_SECONDS = 5.0

# Monkeypatched by tests.
sleep = time.sleep
monotonic = time.monotonic


# --- errors --------------------------------------------------------------------------------


class RequestInFlight(ApplicationError):
    """The first request with this key is still being processed: 409, retry shortly."""

    status = 409
    code = "request_in_flight"
    retry_after = RETRY_AFTER_SECONDS


class IdempotencyKeyReused(ValidationFailed):
    """The key was used before with a different payload: 422."""

    code = "idempotency_key_reused"


class InvalidIdempotencyKey(ValidationFailed):
    code = "invalid_idempotency_key"


def in_flight_message():
    return _("A request with this Idempotency-Key is still being processed. Try again in a moment.")


class ClaimLost(RuntimeError):
    """`complete()` found that the claim is no longer this request's (its lease ran out and a
    retry took it over). Raised so that the caller's transaction, and its work, roll back."""


# --- keys and payload hashes ---------------------------------------------------------------


def normalize_key(value, *, field=HEADER):
    """The key as stored: 1–255 printable ASCII characters. A structured-field string
    (`"…"`, as in the IETF draft) is unquoted. Raises `InvalidIdempotencyKey`."""
    key = (value or "").strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not key or len(key) > KEY_MAX_LENGTH or any(not " " <= c <= "~" for c in key):
        message = _("An Idempotency-Key is 1 to 255 printable ASCII characters.")
        raise InvalidIdempotencyKey(message, fields={field: [message]})
    return key


def _digest(kind, canonical):
    text = json.dumps([kind, canonical], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def hash_json(data):
    """SHA-256 of a JSON payload in canonical form: keys sorted, no insignificant whitespace.
    Key order never matters; any change of a value, or of its JSON type, changes the hash."""
    return _digest("json", data)


def file_sha256(uploaded):
    """SHA-256 of an uploaded file's content, read in chunks; the file is rewound after."""
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return digest.hexdigest()


def _lists(data):
    if hasattr(data, "lists"):  # QueryDict, MultiValueDict
        return data.lists()
    return [(k, v if isinstance(v, list | tuple) else [v]) for k, v in data.items()]


def canonical_form(data, files=None, *, exclude=()):
    """A form submission as sorted `(name, value)` pairs; files by name and content hash."""
    exclude = set(exclude)
    fields = sorted(
        (name, str(value))
        for name, values in _lists(data)
        if name not in exclude
        for value in values
    )
    uploads = []
    if files is not None:
        uploads = sorted(
            (name, file_sha256(f))
            for name, items in _lists(files)
            if name not in exclude
            for f in items
        )
    return {"fields": fields, "files": uploads}


def hash_form(data, files=None, *, exclude=(FORM_FIELD, "csrfmiddlewaretoken")):
    """SHA-256 of a form submission (a QueryDict and MultiValueDict of uploads): sorted items,
    uploaded files by their SHA-256. The token itself and the CSRF token are left out."""
    return _digest("form", canonical_form(data, files, exclude=exclude))


# --- the guard -----------------------------------------------------------------------------


class Replay(NamedTuple):
    """The first response to replay: `return guard.replay` gives `(status, body)`."""

    status: int
    body: Any


def _model():
    from .models import IdempotencyKey

    return IdempotencyKey


def _scoped(place):
    """Run queries in `place`: activate it if no place is active; refuse another place."""
    active = get_active_place()
    if active is None:
        return place_scope(place)
    if active.pk != place.pk:
        raise CrossPlaceWrite(f"idempotency key of place {place.pk} used in place {active.pk}")
    return nullcontext()


def _new_token():
    return uuid.uuid4().hex


class _KeyedRequest:
    """A request carrying an idempotency key: what the guard and the inline claim share."""

    def __init__(self, *, place, scope, key, request_hash, field=HEADER, ttl=DEFAULT_TTL):
        self.place = place
        self.scope = scope
        self.key = normalize_key(key, field=field)
        self.request_hash = request_hash
        self.field = field
        self.ttl = ttl

    def _reused(self):
        message = _("This Idempotency-Key was already used for a different request.")
        return IdempotencyKeyReused(message, fields={self.field: [message]})


class IdempotencyGuard(_KeyedRequest):
    """Context manager: claims the key on entry, releases an unfinished claim on exit.

    After entry, `replay` is the first response (`Replay`) when the same request was completed
    before, else None and this request holds the claim and must do the work, then call
    `complete()` inside the work's transaction. Entry raises `RequestInFlight` (409),
    `IdempotencyKeyReused` (422) or `InvalidIdempotencyKey` (422).
    """

    def __init__(
        self,
        *,
        place,
        scope,
        key,
        request_hash,
        field=HEADER,
        ttl=DEFAULT_TTL,
        lease=DEFAULT_LEASE,
    ):
        _KeyedRequest.__init__(
            self, place=place, scope=scope, key=key, request_hash=request_hash, field=field, ttl=ttl
        )
        self.lease = lease
        self.replay = None
        self.completed = False
        self._committed = False
        self._pk = None
        self._token = None

    def __enter__(self):
        self.claim()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    # -- claiming --

    def claim(self):
        """Insert the claim in its own transaction, or find the key's earlier use."""
        model = _model()
        with _scoped(self.place):
            for _attempt in range(3):
                now = timezone.now()
                if self._insert(model, now):
                    return
                row = model.objects.filter(place=self.place, scope=self.scope, key=self.key).first()
                if row is None:
                    continue  # released meanwhile: try the insert again
                if row.expires_at <= now:
                    if self._take_over(model, row, now, fresh=True):
                        return
                    continue
                if row.request_hash != self.request_hash:
                    raise self._reused()
                if row.status == model.Status.COMPLETED:
                    self.replay = Replay(row.response_status, row.response_body)
                    return
                if row.lease_expires_at > now:
                    break
                if self._take_over(model, row, now, fresh=False):
                    logger.info("idempotency: took over an abandoned claim (scope=%s)", self.scope)
                    return
        raise RequestInFlight(in_flight_message())

    def _insert(self, model, now):
        token = _new_token()
        try:
            with transaction.atomic():
                row = model.objects.create(
                    place=self.place,
                    scope=self.scope,
                    key=self.key,
                    request_hash=self.request_hash,
                    claim_token=token,
                    lease_expires_at=now + self.lease,
                    created_at=now,
                    expires_at=now + self.ttl,
                )
        except IntegrityError:
            return False
        self._pk, self._token = row.pk, token
        return True

    def _take_over(self, model, row, now, *, fresh):
        """Compare-and-set: claim `row` only if nobody changed it since it was read."""
        token = _new_token()
        updates = {"claim_token": token, "lease_expires_at": now + self.lease}
        if fresh:  # an expired key: start over as a new claim
            updates.update(
                request_hash=self.request_hash,
                status=model.Status.IN_FLIGHT,
                response_status=None,
                response_body=None,
                created_at=now,
                completed_at=None,
                expires_at=now + self.ttl,
            )
        taken = model.objects.filter(
            pk=row.pk,
            claim_token=row.claim_token,
            status=row.status,
            expires_at=row.expires_at,
        ).update(**updates)
        if taken:
            self._pk, self._token = row.pk, token
        return bool(taken)

    # -- finishing --

    def complete(self, *, status, body):
        """Record the response to replay, in the caller's open transaction (if any) so that it
        commits or rolls back with the work. `body` must be JSON-ready and hold only what the
        response shows anyway: result references and receipt ids, no personal data."""
        if self.replay is not None or self._token is None:
            raise RuntimeError("complete() needs a claim held by this request")
        if self.completed:
            raise RuntimeError("complete() was already called")
        json.dumps(body)  # a TypeError here, not a broken row later
        model = _model()
        with _scoped(self.place):
            done = model.objects.filter(
                pk=self._pk, claim_token=self._token, status=model.Status.IN_FLIGHT
            ).update(
                status=model.Status.COMPLETED,
                response_status=int(status),
                response_body=body,
                completed_at=timezone.now(),
            )
        if done != 1:
            raise ClaimLost(f"the claim on an idempotency key ({self.scope}) was taken over")
        self.completed = True
        # Once the completion has committed there is nothing to release: saves a write
        # transaction per request on the intake path. Runs at once outside a transaction.
        transaction.on_commit(self._mark_committed)

    def _mark_committed(self):
        self._committed = True

    def release(self):
        """Delete this request's claim unless it is completed (in the database's view: a
        completion rolled back with its transaction counts as not completed)."""
        if self._token is None:
            return
        model = _model()
        try:
            with _scoped(self.place), transaction.atomic():
                model.objects.filter(
                    pk=self._pk, claim_token=self._token, status=model.Status.IN_FLIGHT
                ).delete()
        except DatabaseError:
            # The lease lets a retry take the claim over later; never mask the real error.
            logger.warning("idempotency: could not release a claim (scope=%s)", self.scope)

    def close(self):
        if self.replay is None and not self._committed:
            self.release()


def idempotency_guard(*, place, scope, key, request_hash, **options):
    """`with idempotency_guard(...) as guard:` — see the module docstring."""
    return IdempotencyGuard(place=place, scope=scope, key=key, request_hash=request_hash, **options)


# --- HTML forms ----------------------------------------------------------------------------


def new_idempotency_token():
    return uuid.uuid4().hex


class IdempotencyTokenInput(forms.HiddenInput):
    """A hidden input holding a fresh token on *every* render, even of a bound form.

    A double click sends the same rendered token twice (deduplicated); a form re-shown with
    errors, or after a changed payload was refused, carries a new token, so the corrected
    submission is a new request."""

    kept_token = None  # see keep_idempotency_token()

    def get_context(self, name, value, attrs):
        return super().get_context(name, self.kept_token or new_idempotency_token(), attrs)


def keep_idempotency_token(form, token):
    """Render `form`'s idempotency token as `token`, the one just sent, instead of a fresh one:
    after a failure whose outcome is not known for sure (the database went away, perhaps
    during the COMMIT), sending the form again must carry the same key, so that it goes ahead
    once if nothing was saved and replays the first result if it was. Returns the form."""
    form.fields[FORM_FIELD].widget.kept_token = normalize_key(token, field=FORM_FIELD)
    return form


def idempotency_token_field():
    """The hidden token field: `idempotency_token = idempotency_token_field()` in a form
    (the name must be `FORM_FIELD`, which `form_idempotency` reads)."""
    return forms.CharField(widget=IdempotencyTokenInput, required=False)


class FormSubmission:
    """What `form_idempotency` yields. When `response` is set, return it: a redirect to the
    first submission's result, or the "still processing" page. Otherwise do the work and
    finish with `return submission.redirect(url)` inside the work's transaction."""

    def __init__(self, request, guard=None, response=None):
        self.request = request
        self.guard = guard
        self.response = response

    def redirect(self, url):
        """Record the result (303 to `url`; keep receipt ids, not content, in the URL) and
        return the redirect. Call it inside the work's `transaction.atomic()` block."""
        if self.guard is not None:
            try:
                self.guard.complete(status=303, body={"location": url})
            except ClaimLost:
                # This request outlived its lease and a retry took over: undo this copy of the
                # work and let the person reload, which shows the retry's result.
                if transaction.get_connection().in_atomic_block:
                    transaction.set_rollback(True)
                else:
                    logger.error(
                        "idempotency: claim lost outside a transaction (%s)", self.guard.scope
                    )
                return in_flight_page(self.request)
        return _see_other(url)


def _see_other(url):
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def in_flight_page(request, retry_after=RETRY_AFTER_SECONDS):
    response = error_page(
        request, "errors/429.html", {"in_flight": True, "retry_after": retry_after}, status=409
    )
    response["Retry-After"] = str(retry_after)
    return response


def _claim_waiting(guard, wait):
    """Claim; while the first submission is in flight, wait up to `wait` seconds for it."""
    wait_while_in_flight(guard.claim, wait)


@contextmanager
def form_idempotency(
    request, *, scope, place=None, field=FORM_FIELD, wait=FORM_WAIT_SECONDS, fields=None
):
    """Deduplicate an HTML form POST by its hidden token:

        with form_idempotency(request, scope="report.submit") as submission:
            if submission.response:
                return submission.response
            if form.is_valid():
                with transaction.atomic():
                    report = report_submit(...)
                    return submission.redirect(receipt_url(report))
        return render(request, ..., status=422)   # claim released: nothing was done

    A form without a (valid) token is processed without deduplication. The same token with
    other content raises `ValidationFailed` (code `idempotency_key_reused`, a non-field error)
    for the view to show above the re-rendered form, which then carries a new token.

    `fields` names the fields (and uploads) that make the submission, when one form holds
    several (the follow-up page: a message to one organisation is not changed by what is
    typed in another's box); by default every field but the token and the CSRF token.
    """
    place = place if place is not None else request.place
    data, files = request.POST, request.FILES
    if fields is not None:
        data = {name: data.getlist(name) for name in fields if name in data}
        files = {name: files.getlist(name) for name in fields if name in files}
    try:
        key = normalize_key(request.POST.get(field, ""), field=field)
    except InvalidIdempotencyKey:
        yield FormSubmission(request)
        return
    guard = IdempotencyGuard(
        place=place,
        scope=scope,
        key=key,
        request_hash=hash_form(data, files, exclude={field, "csrfmiddlewaretoken"}),
        field=field,
    )
    try:
        _claim_waiting(guard, wait)
    except RequestInFlight:
        yield FormSubmission(request, response=in_flight_page(request))
        return
    except IdempotencyKeyReused:
        raise form_key_reused() from None
    if guard.replay:
        body = guard.replay.body if isinstance(guard.replay.body, dict) else {}
        yield FormSubmission(request, response=_see_other(body.get("location") or request.path))
        return
    try:
        yield FormSubmission(request, guard=guard)
    finally:
        guard.close()


# --- the claim folded into the work's transaction ------------------------------------------
#
# The guard above claims a key in a transaction of its own before the work: right for long
# work, but on a hot path (report intake) it costs a write transaction per request plus an
# UPDATE to complete it. When the work is a short transaction whose response is known before
# it starts (the result's reference is chosen beforehand), the key is written *completed*, with
# the response to replay, as the first statement of the work's own transaction:
#
#     claim = InlineClaim(place=place, scope="report.submit", key=key, request_hash=h)
#     claim.prepare(status=201, body={"reference": reference})  # before: no conversion inside
#     try:
#         with transaction.atomic():
#             claim.record()
#             ...the work...
#     except IntegrityError:
#         if not claim.recorded:            # the key was there first
#             replay = claim.outcome()      # Replay, or raises 422 / 409; None: try again
#
# - Nothing to release: a failed or refused request rolls its key back with its work, and a
#   process killed mid-work leaves nothing behind (no lease to run out).
# - The same key while the first is in flight: on SQLite, write transactions are queued
#   (locus/core/sqlite), so the duplicate's transaction starts after the first's has ended and
#   finds its result (a replay). On PostgreSQL a transaction-scoped advisory lock on the key is
#   tried first: while another transaction holds it the answer is 409 (`RequestInFlight`), as
#   with the guard. A claim left `in_flight` by the guard answers 409 too until its lease ends.


class InlineClaim(_KeyedRequest):
    """An idempotency key recorded, completed, inside the work's transaction (see above)."""

    def __init__(self, **arguments):
        super().__init__(**arguments)
        self.recorded = False
        self._row = None

    def prepare(self, *, status, body, now=None):
        """Build the key's row with the response to replay, before the work's transaction (its
        values converted then, not while the transaction holds the writers' queue)."""
        model = _model()
        now = now or timezone.now()
        row = model(
            place=self.place,
            scope=self.scope,
            key=self.key,
            request_hash=self.request_hash,
            status=model.Status.COMPLETED,
            claim_token=_new_token(),
            lease_expires_at=now,
            response_status=int(status),
            response_body=body,
            created_at=now,
            completed_at=now,
            expires_at=now + self.ttl,
        )
        self._row = (row, _key_insert().values(row, transaction.get_connection()))

    def record(self):
        """Write the key `prepare()` built, in the caller's open transaction. Raises
        IntegrityError when the key exists (the caller's transaction must then roll back and
        call `outcome()`), `RequestInFlight` on PostgreSQL while another transaction holds it."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("InlineClaim.record() runs inside the work's transaction")
        if self._row is None:
            raise RuntimeError("InlineClaim.prepare() comes before each record()")
        self.recorded = False
        connection = transaction.get_connection()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
                    [f"locus.idempotency:{self.place.pk}:{self.scope}:{self.key}"],
                )
                if not cursor.fetchone()[0]:
                    raise RequestInFlight(in_flight_message())
        row, values = self._row
        self._row = None  # a retry prepares anew
        _key_insert().insert(row, returning=False, values=values)
        self.recorded = True

    def outcome(self):
        """After `record()` met an existing key (and the transaction rolled back): the first
        response to replay (`Replay`), or None when the key is gone (expired, released,
        abandoned: removed here) and the work may be tried again. Raises
        `IdempotencyKeyReused` (422) or `RequestInFlight` (409)."""
        model = _model()
        now = timezone.now()
        with _scoped(self.place):
            row = model.objects.filter(place=self.place, scope=self.scope, key=self.key).first()
            if row is None:
                return None
            stale = row.expires_at <= now or (
                row.status == model.Status.IN_FLIGHT and row.lease_expires_at <= now
            )
            if stale:  # expired, or a guard's claim whose process died: forget it
                model.objects.filter(
                    pk=row.pk, claim_token=row.claim_token, status=row.status
                ).delete()
                return None
            if row.request_hash != self.request_hash:
                raise self._reused()
            if row.status == model.Status.COMPLETED:
                return Replay(row.response_status, row.response_body)
        raise RequestInFlight(in_flight_message())

    def completed(self):
        """The first response recorded for this key whatever the payload it came with, as
        `(Replay, same_payload)`, or None. For a form whose key names one piece of work rather
        than one rendering (the report journey's: one report per pass through the form), a
        later submission with other details is that work sent again, not a new one."""
        model = _model()
        with _scoped(self.place):
            row = (
                model.objects.filter(
                    place=self.place,
                    scope=self.scope,
                    key=self.key,
                    status=model.Status.COMPLETED,
                    expires_at__gt=timezone.now(),
                )
                .only("request_hash", "response_status", "response_body")
                .first()
            )
        if row is None:
            return None
        return Replay(row.response_status, row.response_body), row.request_hash == self.request_hash


def inline_form_claim(request, *, scope, place=None, field=FORM_FIELD):
    """The `InlineClaim` of an HTML form's hidden token, or None when the form carries no valid
    token (it is then processed without deduplication)."""
    try:
        key = normalize_key(request.POST.get(field, ""), field=field)
    except InvalidIdempotencyKey:
        return None
    return InlineClaim(
        place=place if place is not None else request.place,
        scope=scope,
        key=key,
        request_hash=hash_form(request.POST, request.FILES, exclude={field, "csrfmiddlewaretoken"}),
        field=field,
    )


def form_key_reused():
    """What a form shows when its token was already sent with other details."""
    message = _(
        "This form was already sent with different details. "
        "Check what you entered and send it again."
    )
    return ValidationFailed(
        message, code=IdempotencyKeyReused.code, fields={NON_FIELD_ERRORS: [message]}
    )


def wait_while_in_flight(attempt, wait=FORM_WAIT_SECONDS):
    """Call `attempt()`; while it raises `RequestInFlight`, try again for up to `wait` seconds
    (a double click waits for the first submission instead of being refused)."""
    deadline = monotonic() + wait
    delay = 0.1
    while True:
        try:
            return attempt()
        except RequestInFlight:
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise
            sleep(min(delay, remaining))
            delay = min(delay * 2, 0.5)


# --- prepared inserts ----------------------------------------------------------------------

# Fields whose value goes to the database as it is when it is already a str, int, bool or None.
# Exact types only: an encrypted field is a TextField subclass and must encrypt.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.SlugField,
    models.URLField,
    models.EmailField,
    models.BooleanField,
    models.IntegerField,
    models.SmallIntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.BigAutoField,
    models.AutoField,
    models.ForeignKey,
)
_PLAIN_VALUES = (str, int, bool)


class PreparedInsert:
    """One INSERT of a model's concrete fields (all but an auto primary key), its SQL built once
    per database: on a small row the ORM's per-call compilation costs more CPU than the write.

    Values are converted as `Model.save()` would (`get_db_prep_save`, so encrypted fields
    encrypt and JSON fields serialise), defaults come from the model's `__init__`, and a
    tenant row is refused when another place is active (`CrossPlaceWrite`, as in
    `TenantModel.save`). Not done: signals, `pre_save` (auto_now fields: set them yourself),
    `full_clean`. Use it only on hot paths whose rows are built entirely by the caller."""

    def __init__(self, model):
        self.model = model
        meta = model._meta
        pk = meta.pk
        self.auto_pk = isinstance(pk, models.AutoField | models.BigAutoField)
        self.fields = [f for f in meta.concrete_fields if not (f.primary_key and self.auto_pk)]
        self.tenant = any(f.name == "place" for f in self.fields) and hasattr(
            model.objects, "unscoped"
        )
        self._sql = {}

    def _statement(self, connection, returning):
        key = (connection.alias, connection.vendor, returning)
        sql = self._sql.get(key)
        if sql is None:
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in self.fields)
            marks = ", ".join(["%s"] * len(self.fields))
            table = quote(self.model._meta.db_table)
            # Names from the model, quoted by the backend; values are always parameters.
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            if returning:
                sql += f" RETURNING {quote(self.model._meta.pk.column)}"
            self._sql[key] = sql
        return sql

    def values(self, obj, connection):
        values = []
        for field in self.fields:
            value = getattr(obj, field.attname)
            if not (
                type(field) in _PLAIN_FIELDS and (value is None or type(value) in _PLAIN_VALUES)
            ):
                value = field.get_db_prep_save(value, connection)
            values.append(value)
        return values

    def insert(self, obj, *, returning=True, values=None):
        """INSERT `obj`; with `returning`, set its auto primary key. Returns `obj`. `values`:
        what `values(obj, connection)` gave before the write transaction began, so that the
        conversions (encryption) do not hold the SQLite writers' queue (locus/core/sqlite)."""
        if self.tenant:
            active = get_active_place()
            if obj.place_id is None:
                raise CrossPlaceWrite(f"{self.model.__name__} inserted without a place")
            if active is not None and active.pk != obj.place_id:
                raise CrossPlaceWrite(
                    f"{self.model.__name__} of place {obj.place_id} inserted while place "
                    f"{active.pk} is active"
                )
        connection = transaction.get_connection()
        returning = returning and self.auto_pk
        with connection.cursor() as cursor:
            if values is None:
                values = self.values(obj, connection)
            cursor.execute(self._statement(connection, returning), values)
            if returning:
                obj.pk = cursor.fetchone()[0]
        obj._state.adding = False
        obj._state.db = connection.alias
        return obj


@cache
def _key_insert():
    return PreparedInsert(_model())


# --- housekeeping --------------------------------------------------------------------------


def idempotency_purge_expired(*, now=None):
    """Delete expired keys in every place (run it daily). Returns the number deleted."""
    from locus.places.models import Place

    model = _model()
    now = now or timezone.now()
    deleted = 0
    for place in Place.objects.all().iterator():
        with place_scope(place):
            count, _by_model = model.objects.filter(expires_at__lte=now).delete()
        deleted += count
    return deleted
