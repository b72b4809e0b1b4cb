"""Sending one webhook request and one e-mail. No database: the services record the outcome.

HTTP uses the standard library (urllib), no new dependency. Redirects are not followed: a 3xx
counts as a failed attempt (following it would turn the POST into a GET and could send the
signed payload somewhere the organisation never registered).

Webhook addresses are chosen by organisations' administrators, not by the operator, so Locus
must not become their way into the network it runs in (SSRF): a request goes only to a public
address (`address_allowed`). The check is made on the address the host name resolves to at
the moment of connecting, and the connection is made to that very address, so a name that
resolves to a public address when the endpoint is saved and to 127.0.0.1 or 169.254.169.254
later (DNS rebinding) is refused too.
"""

import http.client
import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.core.mail import send_mail

TIMEOUT_SECONDS = 10
USER_AGENT = "Locus-Webhooks/1.0"
ERROR_MAX = 200
# A receiver's Retry-After is honoured up to a day: it may not park a message for longer.
RETRY_AFTER_MAX = timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    retry_after: timedelta | None = None  # the receiver's Retry-After, when it sent one


def retry_after(value, *, now=None):
    """A Retry-After header (seconds, or an HTTP date) as a delay, at most RETRY_AFTER_MAX;
    None when absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        delay = timedelta(seconds=int(value[:9]))
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        delay = max(timedelta(0), moment - (now or datetime.now(UTC)))
    return min(delay, RETRY_AFTER_MAX)


class AddressNotAllowed(OSError):
    """The webhook's host is (or resolves to) an address Locus does not send to."""


def _allowed_networks():
    """The networks an operator allowed on top of the public internet
    (`LOCUS_WEBHOOK_ALLOWED_NETWORKS`, e.g. a police force's case system on a private
    network); outside production, loopback too (a local relay or a test receiver)."""
    networks = [
        ipaddress.ip_network(value, strict=False)
        for value in getattr(settings, "LOCUS_WEBHOOK_ALLOWED_NETWORKS", ()) or ()
    ]
    if not settings.PRODUCTION:
        networks += [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    return networks


def address_allowed(address) -> bool:
    """Whether Locus may send a webhook to this IP address: a public (globally routable)
    unicast address, or one in the operator's allowed networks. Never, unless allowed:
    loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16 with the cloud
    metadata service, fe80::/10), carrier-grade NAT, multicast, reserved and unspecified
    addresses, nor an IPv4 address written as IPv6 (::ffff:127.0.0.1)."""
    try:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks() if network.version == ip.version):
        return True
    return ip.is_global and not ip.is_multicast


def _create_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
    """`socket.create_connection`, connecting only to allowed addresses of the host: the
    addresses are checked after resolution and the socket connects to the checked one."""
    host, port = address
    error = None
    for family, kind, protocol, _name, peer in socket.getaddrinfo(
        host, port, 0, socket.SOCK_STREAM
    ):
        if not address_allowed(peer[0]):
            error = error or AddressNotAllowed("the address is not a public one")
            continue
        sock = socket.socket(family, kind, protocol)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(peer)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError("the host name resolves to no address")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _create_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _create_connection


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


# No proxy from the environment: the address check must see the receiver's own address.
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _GuardedHTTPHandler, _GuardedHTTPSHandler, _NoRedirect
)


def short_error(exc):
    """The exception's class and message, cut short. Never the request or response body."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:ERROR_MAX]


def post_json(*, url, body, headers, timeout=TIMEOUT_SECONDS):
    """POST `body` (bytes) and report the outcome: 2xx is success, anything else a failure."""
    # S310: only http(s) reaches here (validate_webhook_url runs before every attempt).
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
    for name, value in headers.items():
        request.add_header(name, value)
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", USER_AGENT)
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        wait = retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        exc.close()
        return Outcome(ok=False, status_code=exc.code, error=f"HTTP {exc.code}", retry_after=wait)
    except urllib.error.URLError as exc:
        reason = exc.reason
        text = short_error(reason) if isinstance(reason, BaseException) else str(reason)
        return Outcome(ok=False, error=text[:ERROR_MAX])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # timeouts, reset connections, malformed responses or URLs
        return Outcome(ok=False, error=short_error(exc))
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status)
    return Outcome(ok=False, status_code=status, error=f"HTTP {status}")


def send_email(*, to, subject, body):
    try:
        send_mail(subject, body, None, [to])
    except Exception as exc:  # SMTP and socket errors of every kind: retried later
        return Outcome(ok=False, error=short_error(exc))
    return Outcome(ok=True)
