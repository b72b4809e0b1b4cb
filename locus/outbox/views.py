"""Staff pages for webhook endpoints and their delivery logs. Parse, call one service or
selector, render. Who may do what: policies.py (an organisation's administrators manage its
endpoints; the place team's administrators see every endpoint of the place, read-only)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from locus.accounts.decorators import staff_view
from locus.accounts.policies import Capability
from locus.core.errors import ApplicationError
from locus.core.idempotency import form_idempotency

from . import endpoint_selectors, endpoint_services
from .choices import MessageStatus
from .forms import (
    ActiveForm,
    EndpointForm,
    LogFilterForm,
    NewEndpointForm,
    RotateForm,
    TestEventForm,
)
from .policies import endpoint_can_manage, sees_every_endpoint

PAGE_SIZE = 50


def _add_errors(form, exc):
    """Show an application error next to its fields (or at the top of the form)."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, msgs in exc.fields.items():
        for message in msgs:
            form.add_error(field if field in form.fields else None, message)


def _endpoint_or_404(request, endpoint_id):
    endpoint = endpoint_selectors.access_webhook_endpoint(
        place=request.place, membership=request.membership, endpoint_id=endpoint_id
    )
    if endpoint is None:
        raise Http404
    return endpoint


def _managed_or_403(request, endpoint_id):
    endpoint = _endpoint_or_404(request, endpoint_id)
    if not endpoint_can_manage(request.membership, endpoint):
        raise PermissionDenied
    return endpoint


# The session remembers which endpoint's new secret its page may show, once.
SECRET_TO_SHOW = "outbox.secret_to_show"  # noqa: S105 - a session key, not a secret


def _to_secret_page(request, submission, endpoint, *, created):
    """After the POST that made a secret (inside its transaction): let the secret's page show
    it once, and send the browser there (303). Reloading that page, or going back and forward,
    never sends the POST again — which made a second endpoint, or rotated the secret just
    shown out of use — and a double click replays this redirect (`form_idempotency`)."""
    request.session[SECRET_TO_SHOW] = {"endpoint": endpoint.pk, "created": created}
    url = reverse(
        "outbox:endpoint_secret",
        kwargs={"place_slug": request.place.slug, "endpoint_id": endpoint.pk},
    )
    return submission.redirect(url)


@staff_view(Capability.MANAGE_INTEGRATIONS)
def endpoint_secret(request, endpoint_id):
    """The one time a new secret is shown (never cached); afterwards, the endpoint's page."""
    endpoint = _managed_or_403(request, endpoint_id)
    shown = request.session.get(SECRET_TO_SHOW) or {}
    if shown.get("endpoint") != endpoint.pk:
        messages.info(
            request,
            _(
                "The signing secret is shown only once, when it is made. If it was not "
                "copied, make a new one."
            ),
        )
        return redirect("outbox:endpoint", place_slug=request.place.slug, endpoint_id=endpoint.pk)
    del request.session[SECRET_TO_SHOW]
    response = render(
        request,
        "outbox/secret.html",
        {"endpoint": endpoint, "secret": endpoint.secret, "created": shown.get("created")},
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_view(Capability.MANAGE_INTEGRATIONS)
def endpoints(request):
    """The organisation's endpoints in the place (and, for the place team's administrators,
    every other organisation's, read-only), with delivery counts."""
    membership = request.membership
    rows = list(
        endpoint_selectors.webhook_endpoints_visible(place=request.place, membership=membership)
    )
    own = [e for e in rows if e.organisation_id == membership.organisation_id]
    others = [e for e in rows if e.organisation_id != membership.organisation_id]
    context = {"own": own, "others": others, "sees_all": sees_every_endpoint(membership)}
    return render(request, "outbox/endpoints.html", context)


@staff_view(Capability.MANAGE_INTEGRATIONS)
def endpoint_new(request):
    """Register an endpoint; on success its signing secret is shown once."""
    form = NewEndpointForm(request.POST or None)
    if request.method == "POST":
        try:
            with form_idempotency(request, scope="webhooks.endpoint_new") as submission:
                if submission.response:
                    return submission.response
                if form.is_valid():
                    data = dict(form.cleaned_data)
                    data.pop("idempotency_token")
                    with transaction.atomic():
                        endpoint, _secret = endpoint_services.webhook_endpoint_add(
                            place=request.place, membership=request.membership, **data
                        )
                        return _to_secret_page(request, submission, endpoint, created=True)
        except ApplicationError as exc:
            _add_errors(form, exc)
    status = 422 if form.errors else 200
    return render(request, "outbox/endpoint_new.html", {"form": form}, status=status)


@staff_view(Capability.MANAGE_INTEGRATIONS)
def endpoint_detail(request, endpoint_id):
    """One endpoint: its settings (editable by its organisation's administrators) and its
    delivery log, filtered by status, with "retry now" for failed and dead messages."""
    place = request.place
    endpoint = _endpoint_or_404(request, endpoint_id)
    can_manage = endpoint_can_manage(request.membership, endpoint)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
    }
    form = EndpointForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                endpoint_services.webhook_endpoint_change(
                    place=place,
                    membership=request.membership,
                    endpoint=endpoint,
                    **form.cleaned_data,
                )
            except ApplicationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect("outbox:endpoint", place_slug=place.slug, endpoint_id=endpoint.pk)
        status = 422  # the errors are at their fields and in the summary at the top
    log_filter = LogFilterForm(request.GET)
    current = log_filter.cleaned_data["status"] if log_filter.is_valid() else ""
    page = Paginator(
        endpoint_selectors.webhook_delivery_log(place=place, endpoint=endpoint, status=current),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    counts = endpoint_selectors.webhook_status_counts(place=place, endpoint=endpoint)
    tabs = [("", _("All"), counts["all"])] + [
        (value, label, counts[value]) for value, label in MessageStatus.choices
    ]
    rows = []
    for message in page:
        attempts = list(message.delivery_attempts.all())
        rows.append(
            {"message": message, "attempts": attempts, "last": attempts[-1] if attempts else None}
        )
    context = {
        "endpoint": endpoint,
        "can_manage": can_manage,
        "form": form,
        "rotate_form": RotateForm(),
        "test_form": TestEventForm(),
        "page": page,
        "rows": rows,
        "tabs": tabs,
        "current_status": current,
        "retryable": {MessageStatus.FAILED, MessageStatus.DEAD},
    }
    return render(request, "outbox/endpoint.html", context, status=status)


@staff_view(Capability.MANAGE_INTEGRATIONS)
@require_POST
def endpoint_rotate(request, endpoint_id):
    """Give the endpoint a new signing secret, shown once."""
    endpoint = _managed_or_403(request, endpoint_id)
    form = RotateForm(request.POST)
    revoke_old = form.cleaned_data["revoke_old"] if form.is_valid() else False
    try:
        with form_idempotency(request, scope="webhooks.endpoint_rotate") as submission:
            if submission.response:
                return submission.response
            with transaction.atomic():
                endpoint_services.webhook_endpoint_new_secret(
                    place=request.place,
                    membership=request.membership,
                    endpoint=endpoint,
                    revoke_old=revoke_old,
                )
                return _to_secret_page(request, submission, endpoint, created=False)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("outbox:endpoint", place_slug=request.place.slug, endpoint_id=endpoint.pk)


@staff_view(Capability.MANAGE_INTEGRATIONS)
@require_POST
def endpoint_test(request, endpoint_id):
    """Send the endpoint a test event; its delivery shows in the log (a double click, one)."""
    endpoint = _managed_or_403(request, endpoint_id)
    page = reverse(
        "outbox:endpoint", kwargs={"place_slug": request.place.slug, "endpoint_id": endpoint.pk}
    )
    try:
        with form_idempotency(request, scope="webhooks.endpoint_test") as submission:
            if submission.response:
                return submission.response
            with transaction.atomic():
                message = endpoint_services.webhook_endpoint_test(
                    place=request.place,
                    membership=request.membership,
                    endpoint=endpoint,
                    link=page,
                )
                response = submission.redirect(page)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(page)
    messages.success(
        request,
        _("Test event %(id)s sent: whether it arrived shows in the delivery log below.")
        % {"id": message.message_id},
    )
    return response


@staff_view(Capability.MANAGE_INTEGRATIONS)
@require_POST
def endpoint_active(request, endpoint_id):
    """Enable or disable an endpoint."""
    endpoint = _managed_or_403(request, endpoint_id)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to enable or disable the endpoint."))
    else:
        is_active = form.cleaned_data["is_active"]
        try:
            endpoint_services.webhook_endpoint_change(
                place=request.place,
                membership=request.membership,
                endpoint=endpoint,
                is_active=is_active,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Endpoint enabled.") if is_active else _("Endpoint disabled.")
            )
    return redirect("outbox:endpoint", place_slug=request.place.slug, endpoint_id=endpoint.pk)


@staff_view(Capability.MANAGE_INTEGRATIONS)
@require_POST
def message_retry(request, endpoint_id, message_id):
    """Send a failed or dead message again, now."""
    endpoint = _managed_or_403(request, endpoint_id)
    message = endpoint_selectors.access_webhook_message(
        place=request.place, endpoint=endpoint, message_id=message_id
    )
    if message is None:
        raise Http404
    try:
        endpoint_services.webhook_message_retry(
            place=request.place, membership=request.membership, endpoint=endpoint, message=message
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Message %(id)s will be sent again now.") % {"id": message.message_id}
        )
    return redirect("outbox:endpoint", place_slug=request.place.slug, endpoint_id=endpoint.pk)
