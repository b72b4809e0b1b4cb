"""Error pages rendered in the Locus layout; under /api/ the API's one error shape instead.

Django calls these for what no view answered itself: an exception nothing caught (500), a
`SuspiciousOperation` such as too many query parameters (400), a `PermissionDenied` or an
`Http404` raised outside the API's own handlers. An integrator reading the API must get JSON
`{"message", "code", "fields"}` there too, never an HTML page."""

import sys

from django.http import HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.template import loader
from django.utils.translation import gettext as _

from .errors import ServiceUnavailable, database_unavailable, error_page, json_error


def _is_api(request):
    return request.path_info.startswith("/api/")


def bad_request(request, exception=None):
    if _is_api(request):
        return json_error(400, _("The request could not be read."), "bad_request")
    # Django's own page is a bare English "Bad Request (400)".
    return error_page(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    if _is_api(request):
        return json_error(403, _("Your role does not allow this."), "forbidden")
    # The reason a view gave ("Only members of an organisation contribute to the library."),
    # else the page's general one, which speaks of a role in an organisation the person may
    # not have (a network's member, a library reader).
    reason = str(exception) if isinstance(exception, Exception) else ""
    return error_page(request, "errors/403.html", {"reason": reason}, status=403)


def csrf_failure(request, reason=""):
    """A form sent without its CSRF cookie or token (CSRF_FAILURE_VIEW). Django's own page is a
    bare, English-framed 'CSRF verification failed' without the quick exit; a reporter whose
    browser blocks cookies, or who left the form open for long, reads here what happened (nothing
    was sent) and what to do, in their language."""
    if _is_api(request):
        return json_error(
            403,
            _(
                "A change made from a signed-in browser session needs its CSRF token (the "
                "X-CSRFToken header). Scripts and other systems use an API token instead."
            ),
            "csrf_failed",
        )
    context = {"no_cookie": reason == REASON_NO_CSRF_COOKIE}
    return error_page(request, "errors/403_csrf.html", context, status=403)


def page_not_found(request, exception=None):
    if _is_api(request):
        return json_error(404, _("Not found."), "not_found")
    return error_page(request, "errors/404.html", status=404)


def server_error(request):
    """500, or 503 with `Retry-After` when the database was busy or unreachable (QUALITY.md:
    overload degrades to 429/503, never to a 500). The API's addresses answer in its JSON
    error shape. Neither page reads the database."""
    unavailable = database_unavailable(sys.exc_info()[1])
    if unavailable:
        status, code = ServiceUnavailable.status, ServiceUnavailable.code
        message = _(
            "The service is very busy or briefly unavailable. Try again in a moment; a request "
            "sent again with the same Idempotency-Key is not processed twice."
        )
    else:
        status, code = 500, "server_error"
        message = _("An unexpected error stopped this request.")
    if _is_api(request):
        response = json_error(status, message, code)
    else:
        # Without the request's context: its processors read the session and the user, which
        # need the database that may be the very thing failing.
        template = "errors/503.html" if unavailable else "errors/500.html"
        response = HttpResponse(loader.render_to_string(template), status=status)
    if unavailable:
        response["Retry-After"] = str(ServiceUnavailable.retry_after)
    return response
