"""Sending one webhook request and one e-mail. No database: the services record the outcome.

HTTP uses the standard library (urllib), no new dependency. Redirects are not followed: a 3xx
counts as a failed attempt (following it would turn the POST into a GET and could send the
signed payload somewhere the organisation never registered).
"""

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.core.mail import send_mail

TIMEOUT_SECONDS = 10
USER_AGENT = "Locus-Webhooks/1.0"
ERROR_MAX = 200


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(_NoRedirect)


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
        exc.close()
        return Outcome(ok=False, status_code=exc.code, error=f"HTTP {exc.code}")
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
