"""Rate limits per scope and client (QUALITY.md: overload degrades to 429, never to a 500).

    decision = rate_limit(request, scope="report.submit", limit=10, period=3600)
    if not decision.allowed: ...  # decision.retry_after seconds

    @rate_limited("report.submit", "10/h")          # settings.LOCUS_RATE_LIMITS overrides
    def report_form(request, place_slug): ...

A sliding-window counter in the database (`RateCount`, shared by every process): the count of
this fixed window plus the previous window's count weighted by how much of it still overlaps
the last `period` seconds. Only allowed requests count, so a client that waits `retry_after`
seconds is let through. Concurrent requests may overshoot the limit by a few (the check and the
count are not one atomic step); this is abuse control, not billing.

A count costs one read and one upsert (`INSERT … ON CONFLICT DO UPDATE SET count = count + 1`,
in a short write transaction, which SQLite's writers' queue orders). It was kept in Django's
database cache before: each count took two write transactions and seven statements (the
cache's `add` and `incr` each count its table to cull it), about 0.5 ms of CPU more for every
limited request and every API call (docs/operations.md, "Intake"). The sweep deletes expired
counts (`purge_expired_counts`).

The client is an HMAC-SHA256 (keyed with SECRET_KEY) of its IP address — an IPv6 address by its
/64, which one household gets — so no raw address reaches the database or the logs. The address
is the connection's (REMOTE_ADDR) unless `LOCUS_TRUSTED_PROXY_COUNT` proxies in front of Locus
append to `X-Forwarded-For`: then it is the address the outermost trusted proxy saw (that many
hops from the right; anything further left is written by the client and can be forged).

If the database fails, requests are allowed and a warning is logged (without the client).
"""

import contextlib
import functools
import hashlib
import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.utils.crypto import salted_hmac
from django.utils.timesince import timeuntil
from django.utils.translation import gettext, ngettext

from .errors import error_page, json_error
from .models import RateCount

logger = logging.getLogger(__name__)

BUCKET_MAX = RateCount._meta.get_field("bucket").max_length
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


def clock():
    """Seconds since the epoch (monkeypatched by tests)."""
    return time.time()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds; 0 when allowed
    deferred: "DeferredCount | None" = None  # with count=DEFER: the count still to write


DEFER = "defer"  # rate_limit(count=DEFER): decide now, count later (DeferredCount)


@dataclass
class DeferredCount:
    """One allowed request's count, to be written by the caller as a statement of its own write
    transaction (the report submission's: one turn in SQLite's writers' queue instead of two),
    or on its own by `rate_limited` when the caller did not (a refused or rolled-back
    submission still counts)."""

    bucket: str
    expires_at: datetime
    written: bool = False

    def write_in_transaction(self):
        """The count as one more statement of the caller's transaction. It cannot fail for the
        data (an upsert); the caller sets `written` once its transaction committed."""
        _upsert(self.bucket, self.expires_at)

    def write_if_not_written(self):
        if not self.written:
            try:
                _count_one(self.bucket, expires_at=self.expires_at)
            except DatabaseError as exc:  # overload must never become a 500
                logger.warning(
                    "rate count not written: database unavailable (%s)", type(exc).__name__
                )
            self.written = True


@functools.lru_cache(maxsize=256)
def parse_rate(rate):
    """`"10/h"` → (10, 3600); `"5/15m"` → (5, 900). Units: s, m, h, d."""
    match = _RATE.match(str(rate))
    if not match or int(match[1]) < 1 or int(match[2] or 1) < 1:
        raise ImproperlyConfigured(f"not a rate: {rate!r} (expected e.g. '10/m' or '5/15m')")
    return int(match[1]), int(match[2] or 1) * UNITS[match[3]]


# --- the client ----------------------------------------------------------------------------


def _strip_port(value):
    value = value.strip()
    if value.startswith("["):  # [v6]:port
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:  # v4:port
        return value.split(":", 1)[0]
    return value


def client_ip(request):
    """The client's address: REMOTE_ADDR, or the address the outermost trusted proxy saw."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "LOCUS_TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if hops:
            address = hops[-min(proxies, len(hops))]
    return _strip_port(address)


def _network(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address.lower()[:100]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_key(request):
    """A keyed hash of the client's address (never the address itself)."""
    digest = salted_hmac(
        "locus.core.ratelimit.client", _network(client_ip(request)), algorithm="sha256"
    )
    return digest.hexdigest()[:32]


# --- the limiter ---------------------------------------------------------------------------


def _retry_after(*, previous, current, limit, elapsed, period):
    """Seconds until one more request fits, if no other request arrives meanwhile."""
    if current + 1 <= limit:  # the previous window's weight must fade enough
        fraction = 1 - (limit - current - 1) / previous
        wait = (fraction - elapsed) * period
    else:  # wait for the next window, where this one's count fades
        wait = (1 - elapsed) * period + (1 - (limit - 1) / current) * period
    return max(1, math.ceil(wait + 1e-6))


def rate_limit(request, *, scope, limit, period, client=None, count=True):
    """Count one request of `client` (default: the request's client key) in `scope`, allowing
    at most `limit` per `period` seconds. Returns a `Decision`; never raises on database failure.
    `count=False` only asks whether one more would be allowed: for a limit on failures, counted
    afterwards (a wrong follow-up code) with `count=True`. `count=DEFER` decides without
    counting and gives the count to write in `Decision.deferred`."""
    if limit < 1 or period < 1:
        raise ValueError("limit and period must be positive")
    client = client or client_key(request)
    now = clock()
    window = math.floor(now / period)
    elapsed = now / period - window  # fraction of the current window gone, in [0, 1)
    current_key = _bucket(scope, client, window)
    previous_key = _bucket(scope, client, window - 1)
    try:
        counts = _counts([previous_key, current_key])
        previous = counts.get(previous_key, 0)
        current = counts.get(current_key, 0)
        if previous * (1 - elapsed) + current + 1 > limit + 1e-9:
            retry_after = _retry_after(
                previous=previous, current=current, limit=limit, elapsed=elapsed, period=period
            )
            return Decision(allowed=False, retry_after=retry_after)
        if not count:
            return Decision(allowed=True)
        # Kept until the end of the next window, where it is the "previous" count.
        expires_at = datetime.fromtimestamp((window + 2) * period, UTC)
        if count == DEFER:
            return Decision(allowed=True, deferred=DeferredCount(current_key, expires_at))
        _count_one(current_key, expires_at=expires_at)
    except DatabaseError as exc:  # overload must never become a 500
        logger.warning(
            "rate limit not applied (scope=%s): database unavailable (%s)",
            scope,
            type(exc).__name__,
        )
    return Decision(allowed=True)


# --- views ---------------------------------------------------------------------------------


def _bucket(scope, client, window):
    """The count's key; hashed when a long client would not fit (still one per client)."""
    bucket = f"{scope}:{client}:{window}"
    if len(bucket) > BUCKET_MAX:
        bucket = f"{scope[:40]}:{hashlib.sha256(bucket.encode()).hexdigest()}"
    return bucket


def _counts(buckets):
    """{bucket: count} of those that exist (a savepoint inside a transaction, so that a failure
    does not break the caller's). One plain statement: the ORM's compilation of this query
    cost three times the statement (0.11 against 0.03 ms a request)."""
    table = connection.ops.quote_name(RateCount._meta.db_table)  # the model's, not input
    placeholders = ", ".join(["%s"] * len(buckets))
    sql = f"SELECT bucket, count FROM {table} WHERE bucket IN ({placeholders})"  # noqa: S608
    with (
        transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, list(buckets))
        return dict(cursor.fetchall())


def _count_one(bucket, *, expires_at):
    """Add one to the bucket's count, in a write transaction of its own."""
    with transaction.atomic():
        _upsert(bucket, expires_at)


def _upsert(bucket, expires_at):
    """Add one to the bucket's count in a single statement: two processes counting at once
    both count."""
    table = connection.ops.quote_name(RateCount._meta.db_table)  # the model's, not input
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (bucket, count, expires_at) VALUES (%s, 1, %s) "  # noqa: S608
            f"ON CONFLICT (bucket) DO UPDATE SET count = {table}.count + 1",
            [bucket, connection.ops.adapt_datetimefield_value(expires_at)],
        )


def purge_expired_counts(now=None):
    """Delete the counts whose window and the next are over (the sweep calls it). Returns how
    many."""
    expired = RateCount.objects.filter(expires_at__lt=now or datetime.now(UTC))
    return expired.delete()[0]


def configured_rate(scope, default):
    """`(count, period)` of `scope`: `settings.LOCUS_RATE_LIMITS[scope]`, else `default`; None
    when the scope is not limited."""
    rates = getattr(settings, "LOCUS_RATE_LIMITS", {}) or {}
    rate = rates.get(scope, default)
    if rate is None:
        return None
    try:
        return parse_rate(rate)
    except ImproperlyConfigured:
        logger.error("LOCUS_RATE_LIMITS[%r] is not a rate; using %r", scope, default)
        return parse_rate(default) if default is not None else None


def rate_check(request, scope, default, *, client=None, count=True):
    """Count one request of the client in `scope` at its configured rate (`default` unless
    `settings.LOCUS_RATE_LIMITS` overrides it; None there: no limit). For a limit that is not
    a whole view, e.g. per uploaded file; `client` counts for another subject than the
    requesting client (e.g. one report's reference); `count=False` asks without counting.
    Returns a `Decision`."""
    rate = configured_rate(scope, default)
    if rate is None:
        return Decision(allowed=True)
    limit, period = rate
    return rate_limit(request, scope=scope, limit=limit, period=period, client=client, count=count)


# A fixed instant to count a wait from: `timeuntil` needs two dates, and a wait must read the
# same whatever the calendar says today (no month of 28 or 31 days in it).
_WAIT_FROM = datetime(2001, 1, 1, tzinfo=UTC)


def wait_text(seconds):
    """A wait (a `Retry-After`) as a person says it, in the active language: under two minutes
    in seconds ("95 seconds"), else in whole minutes rounded up (never shorter than the wait)
    with the hours they make ("1 hour, 35 minutes"; from a day on, whole hours: "2 days, 1
    hour") — Django's `timeuntil`, whose words are translated in every language Locus speaks.
    Every message telling a person how long to wait says it with this, not "95 minutes"."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 120:
        return ngettext("%(seconds)s second", "%(seconds)s seconds", seconds) % {"seconds": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes >= 24 * 60:  # days and hours: round up to the hour (two units are shown)
        minutes = math.ceil(minutes / 60) * 60
    return timeuntil(_WAIT_FROM + timedelta(minutes=minutes), _WAIT_FROM, depth=2)


def try_again_in(seconds):
    """ "Try again in <wait>." (a sentence of its own, after the one saying what happened)."""
    return gettext("Try again in %(wait)s.") % {"wait": wait_text(seconds)}


def too_many_requests(request, retry_after, *, json=None):
    """429 with `Retry-After`: the API's error shape for API requests, a page otherwise."""
    if json is None:
        json = request.path_info.startswith("/api/")
    if json:
        message = gettext("Too many requests.") + " " + try_again_in(retry_after)
        response = json_error(429, message, "rate_limited")
    else:
        context = {"retry_after": retry_after, "retry_wait": wait_text(retry_after)}
        response = error_page(request, "errors/429.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(scope, limit, *, methods=None, json=None, defer_count=False, refused=None):
    """Limit a view (or ninja operation) to `limit` (e.g. "10/m") per client in `scope`.
    `settings.LOCUS_RATE_LIMITS[scope]` overrides `limit` when set (None there: no limit).
    `methods` limits only those methods (e.g. ("POST",) for a form view). With `defer_count`,
    the view finds the request's count in `request.deferred_rate_count` to write in its own
    transaction (DeferredCount); whatever the view did not write is counted afterwards.
    `refused(request, *args, retry_after=…, **kwargs)` answers a refused request instead of
    the 429 page: a form shown again with what was typed (its status and `Retry-After` are
    set here), where a page of its own would lose it."""
    methods = {m.upper() for m in methods} if methods else None
    if limit is not None:
        parse_rate(limit)  # fail at import time, not on a request

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if methods is None or request.method in methods:
                decision = rate_check(request, scope, limit, count=DEFER if defer_count else True)
                if not decision.allowed:
                    if refused is None:
                        return too_many_requests(request, decision.retry_after, json=json)
                    response = refused(request, *args, retry_after=decision.retry_after, **kwargs)
                    response.status_code = 429
                    response["Retry-After"] = str(decision.retry_after)
                    return response
                if decision.deferred is not None:
                    request.deferred_rate_count = decision.deferred
                    try:
                        return view(request, *args, **kwargs)
                    finally:
                        decision.deferred.write_if_not_written()
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
