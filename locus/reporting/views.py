"""The public report journey, its receipt and the follow-up page.

The journey is one URL (`/<place>/report/`) that works without JavaScript: every step is a POST
to the same address, so the browser history holds one page only. The answers of the other
steps travel as hidden inputs in the page — nothing of the text is kept on the server before
the report is sent — and all of them are validated again before sending. Files are the
exception: they are staged at once (`evidence_stage`) under a random token that travels in the
page, so that a later form error never loses them.
"""

import contextlib
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.forms import FileInput
from django.http import Http404, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from locus.core.errors import (
    ServiceUnavailable,
    ValidationFailed,
    database_unavailable,
    error_page,
)
from locus.core.idempotency import (
    FORM_FIELD,
    IdempotencyKeyReused,
    RequestInFlight,
    form_idempotency,
    form_key_reused,
    in_flight_page,
    inline_form_claim,
    keep_idempotency_token,
    normalize_key,
    wait_while_in_flight,
)
from locus.core.ids import parse_id
from locus.core.languages import remember_language, use_language
from locus.core.ratelimit import (
    rate_check,
    rate_limited,
    try_again_in,
    wait_text,
)
from locus.core.sessions import idle_for_too_long

from . import devices, forms, references, selectors, services
from .models import Report
from .taxonomy import taxonomy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    number: int
    name: str  # the form prefix and the template name
    title: str
    form_class: type | None


STEPS = (
    Step(1, "what", gettext_lazy("What happened"), forms.WhatForm),
    Step(2, "where", gettext_lazy("Where"), forms.WhereForm),
    Step(3, "who", gettext_lazy("Who was targeted and what happened"), forms.WhoForm),
    Step(4, "you", gettext_lazy("About you"), forms.YouForm),
    Step(5, "share", gettext_lazy("Sharing and contact"), forms.ShareForm),
    Step(6, "check", gettext_lazy("Check and send"), None),
)
FORM_STEPS = STEPS[:-1]
CHECK = STEPS[-1]
# The journey's form, which the header's language switcher joins (includes/language_switcher).
JOURNEY_FORM_ID = "journey-form"
# The follow-up page's one form (the messages, the addition and consent), which the header's
# language switcher joins too, so that a language change carries everything not yet sent.
FOLLOWUP_FORM_ID = "followup-form"
# The form asking for the reference and code, which the switcher joins too.
FOLLOWUP_OPEN_FORM_ID = "followup-open"
# The erasure's confirmation, which the switcher joins too.
FOLLOWUP_ERASE_FORM_ID = "followup-erase"
# Where an error raised by the service belongs, by its field name.
SERVICE_FIELDS = {
    "incident_type": (1, "incident_type"),
    "area": (2, "area"),
    "setting": (2, "setting"),
    "platform": (2, "platform"),
    "bias": (3, "bias"),
    "files": (3, "files"),
    "contact_email": (5, "contact_email"),
}
MAX_RECEIPTS_IN_SESSION = 10
# Files staged on the report form, per client: ten reports of ten files an hour.
STAGE_SCOPE, STAGE_RATE = "evidence.stage", "100/h"


def _see_other(url):
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _receipts_key(place):
    return f"reporting.receipts.{place.pk}"


def _code_key(place, reference):
    return f"reporting.code.{place.pk}.{reference}"


def _followup_key(place):
    return f"reporting.followup.{place.pk}"


def _followup_seen_key(place):
    return f"reporting.followup_seen.{place.pk}"


def _followup_staged_key(place):
    return f"reporting.followup_staged.{place.pk}"


# --- the journey ---------------------------------------------------------------------------


class Journey:
    """The state of one pass through the report form, read from the POSTed page."""

    def __init__(self, request):
        self.request = request
        self.place = request.place
        self.language = get_language()
        self.data = request.POST if request.method == "POST" else None
        meta = forms.JourneyForm(self.data or {})
        meta.is_valid()
        cleaned = meta.cleaned_data
        self.step = STEPS[(cleaned.get("step") or 1) - 1]
        self.staged_token = cleaned.get("staged_token") or secrets.token_hex(16)
        self.review = bool(cleaned.get("review"))
        # The Send button's idempotency key: one per pass through the form, not per rendering.
        self.send_key = salted_hmac(
            "locus.reporting.journey.send", self.staged_token, algorithm="sha256"
        ).hexdigest()[:32]
        # The files the check page listed, when this is its Send (forms.listed_files).
        self.listed_files = forms.listed_files(self.data, "staged_files")
        self._bound = {}
        self._staged = None

    # -- forms --

    def _form_kwargs(self, step):
        kwargs = {"place": self.place, "language": self.language, "prefix": step.name}
        if step.name == "where":
            what = self.bound(STEPS[0])
            kwargs["online"] = what.is_valid() and what.is_online
        elif step.name == "who":
            what = self.bound(STEPS[0])
            code = what.cleaned_data.get("incident_type") if what.is_valid() else None
            kwargs["requires_bias"] = (
                taxonomy().get("incident_type", code).requires_bias if code else True
            )
            kwargs["has_files"] = bool(self.staged())
        return kwargs

    def bound(self, step):
        """The step's form bound to what the page carried (validated on demand)."""
        if step.number not in self._bound:
            self._bound[step.number] = step.form_class(self.data or {}, **self._form_kwargs(step))
        return self._bound[step.number]

    def unvalidated(self, step):
        """The step's form showing what the page carried, without error messages: for a step
        the person arrives at (Continue, Back, Change), not one they just sent."""
        form = step.form_class(**self._form_kwargs(step))
        if self.data:
            form.initial = {
                name: field.widget.value_from_datadict(self.data, {}, form.add_prefix(name))
                for name, field in form.fields.items()
                if not isinstance(field.widget, FileInput)
            }
        return form

    def first_invalid(self):
        for step in FORM_STEPS:
            if not self.bound(step).is_valid():
                return step
        return None

    def carried(self, shown):
        """(name, value) of every answer of the steps not shown, as hidden inputs."""
        if not self.data:
            return []
        pairs = []
        for step in FORM_STEPS:
            if step is shown:
                continue
            form = self.bound(step)
            for name, field in form.fields.items():
                if isinstance(field.widget, FileInput):
                    continue
                key = form.add_prefix(name)
                pairs.extend((key, value) for value in self.data.getlist(key))
        return pairs

    def report_data(self):
        data = {}
        for step in FORM_STEPS:
            data |= self.bound(step).report_data()
        return data

    # -- files --

    def staged(self):
        if self._staged is None:
            self._staged = list(
                services.evidence_staged(place=self.place, staged_token=self.staged_token)
            )
        return self._staged

    def stage_uploads(self):
        """Stage every file sent with this page; returns the refusals, one message per file.
        Files are stored before any report exists, so they are counted per client
        (`evidence.stage`): anonymous uploads cannot fill the disk."""
        refusals = []
        for uploaded in self.request.FILES.getlist("who-files"):
            if not rate_check(self.request, STAGE_SCOPE, STAGE_RATE).allowed:
                refusals.append(
                    _(
                        "%(name)s: too many files were sent from your connection in the last "
                        "hour. Send your report without it, or try again later."
                    )
                    % {"name": uploaded.name}
                )
                continue
            try:
                services.evidence_stage(
                    place=self.place, uploaded=uploaded, staged_token=self.staged_token
                )
            except ValidationFailed as exc:
                refusals.append(
                    _("%(name)s: %(reason)s") % {"name": uploaded.name, "reason": exc.message}
                )
            except DatabaseError as exc:
                if not database_unavailable(exc):
                    raise
                # The step is shown again with what was typed (the account can be long).
                logger.warning("staging a file: database unavailable", exc_info=exc)
                refusals.append(
                    _(
                        "%(name)s: Locus is very busy and could not keep this file just now. "
                        "Choose it again in a moment."
                    )
                    % {"name": uploaded.name}
                )
        self.forget_staged()
        return refusals

    def unstage(self, evidence_id):
        services.evidence_unstage(
            place=self.place, staged_token=self.staged_token, evidence_id=evidence_id
        )
        self.forget_staged()

    def forget_staged(self):
        """The staged files changed: read them again (and the step that shows them)."""
        self._staged = None
        self._bound.pop(3, None)

    # -- pages --

    def show(self, step, *, form=None, review=False, status=200):
        context = {
            "steps": STEPS,
            "step": step,
            "form": form if form is not None else self.unvalidated(step),
            "carried": self.carried(step),
            "staged_token": self.staged_token,
            "review": review,
            "token_form": forms.JourneyForm(),
            "staged": self.staged() if step.name in ("who", "check") else [],
            "language_form": JOURNEY_FORM_ID,
            # Enter in a text field presses the form's first button, which is now the header's
            # "Change language": a Continue before it keeps Enter meaning Continue.
            "language_default": "next",
        }
        return render(self.request, "reporting/report.html", context, status=status)

    def show_errors(self, step):
        """Re-show a step with its errors next to the fields and everything typed kept."""
        return self.show(step, form=self.bound(step), review=self.review, status=422)

    def show_check(self, *, errors=(), not_saved=False, token_form=None):
        """The check page, or the first step with an error (all answers validated again)."""
        invalid = self.first_invalid()
        if invalid is not None:
            return self.show_errors(invalid)
        if token_form is None:
            # The page's token is the journey's own (`send_key`), the same on every showing of
            # the check page: a check page shown again by the history (Back, then "Confirm form
            # resubmission") after the report was sent sends that report's key, not a new one.
            token_form = keep_idempotency_token(forms.JourneyForm(), self.send_key)
        sections = [
            {"step": step, "rows": self.bound(step).summary(), "form": self.bound(step)}
            for step in FORM_STEPS
        ]
        context = {
            "steps": STEPS,
            "step": CHECK,
            "sections": sections,
            "carried": self.carried(CHECK),
            "staged_token": self.staged_token,
            "token_form": token_form,
            "staged": self.staged(),
            "listed_files": forms.listed_value(self.staged()),
            "summary_errors": errors,  # in the error summary, at the top (base.html)
            "not_saved": not_saved,
            "language_form": JOURNEY_FORM_ID,
        }
        _hold_session(self.request, self.place)
        return render(self.request, "reporting/report.html", context, status=422 if errors else 200)

    def show_not_saved(self, *, token=None):
        """The check page again after the database could not save the report (busy or briefly
        unreachable): everything is kept, the page says that nothing was sent yet, and its
        token is `token` (the one just sent), so pressing Send again cannot send it twice."""
        token_form = forms.JourneyForm()
        if token:
            keep_idempotency_token(token_form, token)
        response = self.show_check(not_saved=True, token_form=token_form)
        if response.status_code == 200:
            response.status_code = ServiceUnavailable.status
            response["Retry-After"] = str(ServiceUnavailable.retry_after)
        return response

    def show_service_errors(self, exc):
        """Put an error raised by the service next to its field, or on the check page."""
        for name, field_errors in exc.fields.items():
            if name in SERVICE_FIELDS:
                number, field = SERVICE_FIELDS[name]
                step = STEPS[number - 1]
                form = self.bound(step)
                form.is_valid()
                for message in field_errors:
                    form.add_error(field if field in form.fields else None, message)
                return self.show(step, form=form, review=True, status=422)
        return self.show_check(errors=[exc.message])


def _chosen_language(request):
    """The language chosen with the header's switcher on a journey page (its "Change language"
    button sends the journey's form, action "language"), if Locus has it."""
    if request.method != "POST" or request.POST.get("action") != "language":
        return None
    code = request.POST.get("language", "")
    return code if code in dict(settings.LANGUAGES) else None


@never_cache
def report(request, place_slug):
    """The stepped report form. Actions come from the button pressed: next, back, change-N,
    remove-<file id>, language, send."""
    language = _chosen_language(request)
    if language:
        # Before the forms are made: their labels and the taxonomy's are read in it.
        use_language(request, language)
    journey = Journey(request)
    if request.method != "POST":
        return journey.show(STEPS[0])
    action = request.POST.get("action", "next")
    if journey.step.name == "who":
        refusals = journey.stage_uploads()
        if refusals:
            form = journey.bound(journey.step)
            form.is_valid()
            for refusal in refusals:
                form.add_error("files", refusal)
            response = journey.show(journey.step, form=form, review=journey.review, status=422)
            return remember_language(response, language) if language else response
    if action.startswith("remove-"):
        evidence_id = parse_id(action.removeprefix("remove-"))
        if evidence_id is not None:
            journey.unstage(evidence_id)
        return journey.show(STEPS[2], review=journey.review)
    if action == "language":
        # The same step again in the chosen language, with every answer and file kept
        # (going to the set_language view would start the journey again, empty).
        if journey.step is CHECK:
            response = journey.show_check()
        else:
            response = journey.show(journey.step, review=journey.review)
        return remember_language(response, language) if language else response
    if action == "back":
        return journey.show(STEPS[max(journey.step.number - 2, 0)])
    if action.startswith("change-"):
        number = parse_id(action.removeprefix("change-"))
        if number is not None and 1 <= number <= len(FORM_STEPS):
            return journey.show(STEPS[number - 1], review=True)
        return journey.show_check()
    if action == "send":
        return send(request, journey)
    if journey.step is not CHECK and not journey.bound(journey.step).is_valid():
        return journey.show_errors(journey.step)
    if journey.review or journey.step.number >= len(FORM_STEPS):
        return journey.show_check()
    return journey.show(STEPS[journey.step.number])


def _send_refused(request, journey, *, retry_after):
    """Over the sending limit: the check page again with every answer and file, saying when to
    try again. A page of its own would leave the reporter to go back to a page the browser can
    only send again ("Confirm form resubmission")."""
    return journey.show_check(
        errors=[
            _(
                "Not sent yet: too many reports were sent from your connection in the last "
                "hour. Everything you entered is kept below."
            )
            + " "
            + try_again_in(retry_after)
        ]
    )


@rate_limited("report.submit", "10/h", methods=("POST",), defer_count=True, refused=_send_refused)
def send(request, journey):
    """Send the report once, whatever the number of clicks: the page's idempotency token makes
    a double click or a retry land on the first report's receipt. The token is recorded in the
    report's own transaction (`InlineClaim`); a duplicate of a submission still in flight waits
    for it (`wait_while_in_flight`). The request's rate count is written in that transaction
    too; a click that stores nothing is counted on its own afterwards (`rate_limited`)."""
    place = journey.place
    count = getattr(request, "deferred_rate_count", None)  # none without a limit
    claim = inline_form_claim(request, scope="report.submit")
    invalid = journey.first_invalid()
    if invalid is not None:
        # A second click on a page whose first click was sent: its staged files now belong to
        # the report, so a report of files only no longer validates. Land on its receipt.
        sent = _sent_before(request, place, claim)
        return sent if sent is not None else journey.show_errors(invalid)
    idempotency = None
    if claim is not None:
        idempotency = services.IdempotentResponse(
            claim=claim, respond=lambda report: (303, {"location": _receipt_url(place, report)})
        )

    # The files the check page listed, each of which must still be there (one deleted for its
    # age since is asked for again); from a page without that list, the files staged now.
    listed = journey.listed_files
    if listed is None:
        listed = [evidence.pk for evidence in journey.staged()]

    def submit():
        return services.report_submit(
            place=place,
            data=journey.report_data(),
            # No statement when there are no files.
            staged_token=journey.staged_token if listed else "",
            staged_ids=listed,
            language=journey.language,
            idempotency=idempotency,
            also_write=count.write_in_transaction if count is not None else None,
        )

    try:
        submitted = wait_while_in_flight(submit)
    except RequestInFlight:
        return in_flight_page(request)
    except IdempotencyKeyReused:
        # This pass through the form was sent before, with other details: a check page shown
        # again by the history (its files now belong to the report), or answers changed after
        # sending. The report exists: land on its receipt rather than send a second one.
        sent = _sent_before(request, place, claim)
        return sent if sent is not None else journey.show_service_errors(form_key_reused())
    except services.StagedEvidenceExpired as exc:
        # Nothing was sent: the files step again, listing the files still kept.
        journey.forget_staged()
        return journey.show_service_errors(exc)
    except ValidationFailed as exc:
        return journey.show_service_errors(exc)
    except DatabaseError as exc:
        if not database_unavailable(exc):
            raise
        # The transaction rolled back (or, if the connection broke during its COMMIT, may
        # have committed): show the check page again with every answer and file, and the
        # same token, so that sending again goes ahead once, or lands on the receipt.
        logger.warning("report submission: database unavailable; the check page is shown again")
        return journey.show_not_saved(token=claim.key if claim is not None else None)
    if submitted.replay is not None:
        body = submitted.replay.body if isinstance(submitted.replay.body, dict) else {}
        return _replayed_receipt(request, place, body.get("location"))
    # Committed, with its count: remember the code for one showing, and route before the
    # receipt is read.
    if count is not None:
        count.written = True
    _remember_receipt(request, place, submitted.report.reference, submitted.followup_code)
    _route_now(submitted)
    return _see_other(_receipt_url(place, submitted.report))


def _hold_session(request, place):
    """Give the browser its session on the check page, before Send, so that both clicks of a
    double click carry the same one: otherwise the first click's answer — which sets the
    session cookie holding the receipt and the follow-up code — is dropped by the browser for
    the second, whose replay then leads to a receipt this browser cannot open (404) and the
    code is never seen. Like the receipt, it lasts the browser session for an anonymous
    reporter."""
    key = f"reporting.journey.{place.pk}"
    if key not in request.session:
        request.session[key] = 1
        if not request.user.is_authenticated:
            request.session.set_expiry(0)


def _replayed_receipt(request, place, location, *, again=False):
    """The answer to a Send that the first click already sent: its receipt, once the first
    click's request has saved the session that shows it (see `_wait_for_receipt`). `again`: the
    page sent was not the one first sent (other details, or shown again by the history), so the
    receipt says that nothing was sent this time, and how to add to the report."""
    if not location:
        return _see_other(request.path)
    _wait_for_receipt(request, place, location)
    if again:
        messages.info(
            request,
            _(
                "This report had already been sent, so it was not sent again. To add or correct "
                "something, follow it up with your reference and code."
            ),
        )
    return _see_other(location)


def _wait_for_receipt(request, place, location, wait=None):
    """A double click: the first click's report is committed, but its request may still be
    routing and saving the session that lets this browser see the receipt and the code (shown
    once). Wait for that, at most `wait` seconds (FORM_WAIT_SECONDS), reading the session's
    stored copy; this request's own session is not changed (saving it could overwrite the
    first's)."""
    from locus.core import idempotency

    try:
        reference = resolve(location).kwargs.get("reference")
    except Resolver404:
        return
    session_key = request.session.session_key
    if not reference or session_key is None:
        return
    receipts_key = _receipts_key(place)
    if reference in request.session.get(receipts_key, []):
        return
    deadline = idempotency.monotonic() + (idempotency.FORM_WAIT_SECONDS if wait is None else wait)
    delay = 0.05
    while idempotency.monotonic() < deadline:
        idempotency.sleep(delay)
        stored = type(request.session)(session_key=session_key).load()
        if reference in stored.get(receipts_key, []):
            return
        delay = min(delay * 2, 0.5)
    logger.warning("report submission: a replayed receipt is not in this browser's session")


def _earlier_submission(claim):
    """The completed first submission of this pass through the form (its replay), whatever
    details it was sent with, if any; only looked up when the page no longer validates or its
    key was used with other details, so a valid submission costs no read."""
    if claim is None:
        return None
    found = claim.completed()
    return found if found is not None and isinstance(found[0].body, dict) else None


def _sent_before(request, place, claim):
    """The receipt of the report this pass through the form already sent, or None. The same
    page sent twice (a double click) lands there as the first click did; another page (shown
    again by the history, or changed) is also told that nothing was sent this time."""
    found = _earlier_submission(claim)
    if found is None:
        return None
    replay, same_page = found
    return _replayed_receipt(request, place, replay.body.get("location"), again=not same_page)


def _receipt_url(place, report):
    return reverse(
        "reporting:receipt", kwargs={"place_slug": place.slug, "reference": report.reference}
    )


def _route_now(submitted):
    """The person is about to read their routing receipt, so route now instead of waiting for
    the task worker (whichever runs first routes; the other finds it done). If it fails here,
    the queued task and the sweep still route the report."""
    if submitted.routed:
        return
    from locus.cases.services import report_route

    try:
        report_route(report=submitted.report)
    except Exception:
        logger.exception("routing at submission failed; left to the task worker")


def _remember_receipt(request, place, reference, code):
    receipts = [r for r in request.session.get(_receipts_key(place), []) if r != reference]
    request.session[_receipts_key(place)] = [*receipts, reference][-MAX_RECEIPTS_IN_SESSION:]
    request.session[_code_key(place, reference)] = code
    if not request.user.is_authenticated:
        # The receipt (who received the report, and why) is for this browser session only:
        # on a shared device the cookie goes when the browser closes, not hours later.
        request.session.set_expiry(0)


@never_cache
def receipt(request, place_slug, reference):
    """The reference and, the first time only, the follow-up code. Only the browser that sent
    the report sees this page: it tells nothing about references sent by others."""
    place = request.place
    reference = references.normalise_reference(reference)
    if not reference or reference not in request.session.get(_receipts_key(place), []):
        raise Http404
    code = request.session.pop(_code_key(place, reference), None)
    report = Report.objects.filter(place=place, reference=reference).first()
    context = {
        "reference": reference,
        "code": code,
        "routing": _routing_sentences(report),
        "routing_pending": report is not None and not selectors.report_is_routed(report),
        "device_days": settings.LOCUS_FOLLOWUP_DEVICE_DAYS,
        # Written down or printed with the reference and code: where to use them.
        "followup_address": request.build_absolute_uri(_followup_url(place)),
    }
    response = render(request, "reporting/receipt.html", context)
    # This browser sent the report: nobody else's wrong codes may keep it out (devices.py).
    # Given here rather than on Send, so that the click whose answer the browser kept (a
    # double click) gets it too.
    devices.remember(request, response, place=place, reference=reference)
    return response


def _routing_sentences(report):
    """Who received the report and why, in plain words (the routing receipt)."""
    if report is None:
        return []
    from locus.cases.routing import explain
    from locus.cases.selectors import routing_decisions_for

    return explain(list(routing_decisions_for(report)), get_language())


# --- follow-up -----------------------------------------------------------------------------
#
# Follow-up is one page (`/<place>/follow-up/`): the reference and code open the report for
# this browser session (the session then holds only the report's id), and every action is a
# POST to the same page with an `action`. The copy of the data and the erasure have pages of
# their own, for the same session. A report whose data was erased shows that, and nothing else.

WRITE_SCOPE, WRITE_RATE = "followup.write", "30/h"  # messages and additions, per client


def _forget_followup(request):
    request.session.pop(_followup_key(request.place), None)
    request.session.pop(_followup_seen_key(request.place), None)
    request.session.pop(_followup_staged_key(request.place), None)


def _followed_report(request):
    """The report this browser opened, unless it was left untouched for longer than
    `LOCUS_FOLLOWUP_IDLE_TIMEOUT` seconds: a reporter on a shared or family device must not
    leave their report open to the next person (then it is forgotten, and the page says so)."""
    report_id = request.session.get(_followup_key(request.place))
    if report_id is None:
        return None
    seen_key, timeout = _followup_seen_key(request.place), settings.LOCUS_FOLLOWUP_IDLE_TIMEOUT
    if idle_for_too_long(request.session, seen_key, timeout):
        _forget_followup(request)
        messages.info(
            request,
            _(
                "For your safety, your report was closed on this device after a while without "
                "activity. Enter your reference and code to open it again."
            ),
        )
        return None
    return Report.objects.filter(place=request.place, pk=report_id).first()


def _followup_url(place):
    return reverse("reporting:followup", kwargs={"place_slug": place.slug})


def _base_url(request):
    """The address this request came in on: links in e-mails to organisations start here."""
    return request.build_absolute_uri("/").rstrip("/")


@never_cache
def followup(request, place_slug):
    """Open a report with its reference and code, then see its status and the organisations
    handling it, exchange messages with them, add information, change consent."""
    action = request.POST.get("action", "open") if request.method == "POST" else None
    if action == "close":
        _forget_followup(request)
        return _see_other(request.path)
    if action == "forget":
        # On a device others use: close the report and delete the device cookie, the one
        # trace the follow-up leaves that outlives the browser session.
        _forget_followup(request)
        response = _see_other(request.path)
        devices.forget(response, place=request.place)
        return response
    if action == "open":
        return _open(request)
    if action == "language":
        return _followup_in_language(request)
    report = _followed_report(request)
    if report is None:
        return _open_page(request, forms.FollowUpForm())
    if selectors.report_is_erased(report):
        return _erased_page(request, report, status=200 if action is None else 410)
    try:
        if action == "consent":
            return _change_consent(request, report)
        if action == "message" or (action or "").startswith("message-"):
            return _send_message(request, report)
        if action == "add" or (action or "").startswith("add-remove-"):
            return _add_information(request, report)
    except services.ReportErased:
        report.refresh_from_db()
        return _erased_page(request, report, status=410)
    return _status_page(request, report)


def _open(request):
    """Open a report with its reference and code. A browser holding the report's device cookie
    is counted on its own limit of wrong codes (`followup.device`): someone else's wrong codes
    on the reference, or on the shared address, do not keep it out. Any other client meets the
    limits per client (`followup.open`) and per reference (`followup.reference`)."""
    place = request.place
    form = forms.FollowUpForm(request.POST)
    valid = form.is_valid()
    device = None
    if valid:
        device = devices.trusted_device(
            request, place=place, reference=form.cleaned_data["reference"]
        )
    if device is not None:
        decision = devices.wrong_code_allowed(request, device)
        if decision.allowed:
            decision = devices.open_allowed(request, device)
            if not decision.allowed:
                return _opened_too_often(request, form, decision.retry_after)
    else:
        decision = rate_check(request, "followup.open", "20/h")
        if decision.allowed and valid:
            decision = references.followup_attempt(
                request, place=place, reference=form.cleaned_data["reference"]
            )
    if not decision.allowed:
        return _opened_too_often(
            request,
            form,
            decision.retry_after,
            _(
                "Too many attempts to open a report were made from your connection, or with "
                "this reference, in the last hour, so this one was not checked. Nothing has "
                "been lost."
            ),
        )
    if valid:
        report = selectors.report_for_followup(
            place=place,
            reference=form.cleaned_data["reference"],
            code=form.cleaned_data["code"],
        )
        if report is not None:
            request.session.cycle_key()
            request.session[_followup_key(place)] = report.pk
            request.session.pop(_followup_staged_key(place), None)  # another report's files
            request.session[_followup_seen_key(place)] = int(time.time())
            if not request.user.is_authenticated:
                # For this browser session only: the cookie goes when the browser closes
                # (a signed-in person's session keeps its own lifetime).
                request.session.set_expiry(0)
            response = _see_other(request.path)
            devices.remember(request, response, place=place, reference=report.reference)
            if device is not None:
                devices.count_open(request, device)
            return response
        if device is not None:
            devices.count_wrong_code(request, device)
        form.add_error(
            None,
            _(
                "We found no report with this reference and code. Check both and try again: "
                "the code is the long one you were given when you sent the report."
            ),
        )
    return _open_page(request, form, status=422)


def _open_page(request, form, *, status=200):
    """The form asking for the reference and code. The header's language switcher joins it
    (action "language"), so a language change keeps what was typed; its hidden default button
    keeps Enter meaning "Open my report"."""
    context = {"form": form, "language_form": FOLLOWUP_OPEN_FORM_ID, "language_default": "open"}
    return render(request, "reporting/followup.html", context, status=status)


def _opened_too_often(request, form, retry_after, reason=None):
    """Over a limit of opening: the form again, with what was typed, saying why (`reason`) and
    when to try again (429, Retry-After) — a page of its own would lose the long code, going
    back showing the form empty. By default a trusted browser that opened its report too often
    with the right code (`followup.device_open`): counted on the device, so it tells nothing
    about the code typed now."""
    if reason is None:
        message = _(
            "Your report has been opened many times from this browser in the last hour, so for "
            "its safety it cannot be opened here just now. Nothing has been lost. Please try "
            "again in %(wait)s."
        ) % {"wait": wait_text(retry_after)}
    else:
        message = f"{reason} {try_again_in(retry_after)}"
    form.add_error(None, message)
    response = _open_page(request, form, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _followup_in_language(request):
    """The header's language switcher on the follow-up page: its choice and button join the
    page's one form (`FOLLOWUP_FORM_ID`, action "language"), which holds the messages, the
    addition and the consent choices, so the page comes back in the chosen language, the
    report still open, with everything written, ticked or chosen and not yet sent kept (files
    chosen are staged, as the addition's own button would) — with or without JavaScript.
    Nothing is sent. Going to the set_language view lost it all."""
    language = _chosen_language(request)
    if language:
        use_language(request, language)
    report = _followed_report(request)
    if report is None:
        # The reference and code being typed, as a wrong code's page keeps them.
        typed = {name: request.POST.get(name, "") for name in ("reference", "code")}
        response = _open_page(request, forms.FollowUpForm(initial=typed))
    elif selectors.report_is_erased(report):
        response = _erased_page(request, report)
    else:
        token = _staged_token(request)
        refusals = _stage_addition_files(request, report, token, counted=False)
        addition = _refused_addition(request, token, refusals)
        response = _status_page(
            request,
            report,
            addition_form=addition,
            staged_token=token,
            status=422 if addition is not None else 200,
        )
    return remember_language(response, language) if language else response


def _consent_initial(report):
    return {
        "police_anonymised": report.consent_police_anonymised,
        "police_with_contact": report.consent_police_with_contact,
        "support_contact": report.consent_support_contact,
    }


def _consent_draft(data):
    """The consent boxes as the page carried them (ticked or not), not saved yet."""
    form = forms.ConsentChangeForm(prefix="consent")
    form.initial = {
        name: field.widget.value_from_datadict(data, {}, form.add_prefix(name))
        for name, field in form.fields.items()
    }
    return form


def _change_consent(request, report):
    """Save the consent boxes. Files chosen in the addition's field meanwhile are staged first
    (nothing a reporter sends is lost) and listed on the page that follows; a refused one stops
    the save, the page shown again with the refusal next to the files field."""
    token = _staged_token(request)
    refusals = _stage_addition_files(request, report, token, counted=False)
    if refusals:
        return _status_page(
            request,
            report,
            addition_form=_refused_addition(request, token, refusals),
            staged_token=token,
            status=422,
        )
    form = forms.ConsentChangeForm(request.POST, prefix="consent")
    if form.is_valid():
        try:
            services.report_change_consent(report=report, **form.cleaned_data)
        except ValidationFailed as exc:
            for message in exc.fields.get("consent", [exc.message]):
                form.add_error("police_with_contact", message)
        else:
            messages.success(request, _("Your choices about sharing have been saved."))
            if _unsent_elsewhere(request, report, sent="consent"):
                # The boxes as saved (the service may have ticked one the person did not).
                saved = forms.ConsentChangeForm(initial=_consent_initial(report), prefix="consent")
                return _status_page(request, report, consent_form=saved, staged_token=token)
            return _see_other(request.path)
    return _status_page(request, report, consent_form=form, staged_token=token, status=422)


def _replayed(submission):
    """Whether the form's token says this was sent already (its answer, a redirect, replayed)
    rather than still in flight."""
    return submission.response is not None and submission.response.status_code == 303


def _unsent_elsewhere(request, report, *, sent):
    """Whether the page's one form carried something written or ticked and not yet sent besides
    the part just sent (`sent`: "consent", "add" or a thread's body field). Then the page is
    shown at once, the part sent emptied and the rest kept, instead of the redirect, whose page
    would show the boxes empty: a long addition written before sending a short message is not
    lost. (Reloading that page asks to send again; the token makes that land on the result.)"""
    data = request.POST
    for name, value in data.items():
        if name.startswith("thread-") and name.endswith("-body") and name != sent and value.strip():
            return True
    if sent != "add" and data.get("add-text", "").strip():
        return True
    return (
        sent != "consent"
        and bool(data.get("consent-shown"))
        and _consent_draft(data).initial != _consent_initial(report)
    )


def _add_errors(form, exc):
    """Put a service's errors next to the form's fields (or above the form)."""
    placed = False
    for name, field_errors in exc.fields.items():
        for message in field_errors:
            form.add_error(name if name in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _message_form(thread, data=None, initial=None):
    form = forms.MessageForm(data, initial=initial, prefix=f"thread-{thread.case.pk}")
    form.fields["body"].label = _("Your message to %(organisation)s") % {
        "organisation": thread.organisation.name
    }
    return form


def _write_refused(request, report, *, retry_after):
    """Messages and additions are limited per client (`followup.write`). Over the limit, the
    page again with everything the form carried and why, when to try again: a page of its own
    would lose what was written, since going back shows the follow-up page as the server
    gives it (never stored), empty. Files chosen are named next to the files field, to choose
    again later (storing them is what the limit holds back)."""
    token = _staged_token(request)
    refusals = _stage_addition_files(request, report, token, counted=False)
    return _status_page(
        request,
        report,
        errors=[
            _(
                "Not sent yet: too many messages and additions were sent from your "
                "connection in the last hour. What you wrote is kept below."
            )
            + " "
            + try_again_in(retry_after)
        ],
        addition_form=_refused_addition(request, token, refusals),
        staged_token=token,
    )


@rate_limited(WRITE_SCOPE, WRITE_RATE, methods=("POST",), refused=_write_refused)
def _send_message(request, report):
    """Send one message to one of the organisations handling the report. A double click sends
    it once (the form's idempotency token)."""
    threads = selectors.report_threads(report)
    action = request.POST.get("action", "")
    # The page's button names its thread ("message-<case>"); a form of its own may send it.
    chosen = action.removeprefix("message-") if action != "message" else request.POST.get("thread")
    thread = next((t for t in threads if str(t.case.pk) == chosen), None)
    if thread is None or not thread.reads_report:
        return _status_page(
            request,
            report,
            errors=[_("Choose one of the organisations handling your report.")],
            status=422,
        )
    form = _message_form(thread, request.POST)
    token = _staged_token(request)
    refusals, response = [], None
    try:
        # The page's one form carries the other boxes too: only this message makes the payload.
        with form_idempotency(
            request,
            scope="followup.message",
            fields=("action", "thread", form.add_prefix("body")),
        ) as submission:
            if submission.response:
                # Sent already (a double click, a reload): the others' drafts are kept still.
                if _replayed(submission) and _unsent_elsewhere(
                    request, report, sent=form.add_prefix("body")
                ):
                    return _status_page(
                        request,
                        report,
                        message_forms={thread.case.pk: _message_form(thread)},
                        staged_token=token,
                    )
                return submission.response
            # Files chosen in the addition's field are kept (staged) and listed on the next page.
            refusals = _stage_addition_files(request, report, token)
            if not refusals and form.is_valid():
                with transaction.atomic():
                    services.report_message_send(
                        report=report,
                        case=thread.case,
                        body=form.cleaned_data["body"],
                        base_url=_base_url(request),
                    )
                    response = submission.redirect(f"{request.path}#thread-{thread.case.pk}")
    except ValidationFailed as exc:
        _add_errors(form, exc)
    except DatabaseError as exc:
        _not_saved_yet(
            request,
            form,
            exc,
            _(
                "Your message has not been sent yet: Locus is very busy and could not save it "
                "just now. It is kept below: send it again in a moment."
            ),
        )
        return _status_page(
            request,
            report,
            message_forms={thread.case.pk: form},
            staged_token=token,
            status=ServiceUnavailable.status,
        )
    if response is not None and response.status_code == 303:
        messages.success(
            request,
            _("Your message has been sent to %(organisation)s.")
            % {"organisation": thread.organisation.name},
        )
        if _unsent_elsewhere(request, report, sent=form.add_prefix("body")):
            return _status_page(
                request,
                report,
                message_forms={thread.case.pk: _message_form(thread)},
                staged_token=token,
            )
        return response
    if response is not None:
        return response
    return _status_page(
        request,
        report,
        message_forms={thread.case.pk: form},
        addition_form=_refused_addition(request, token, refusals),
        staged_token=token,
        status=422,
    )


def _not_saved_yet(request, form, exc, message):
    """After the database could not save a reporter's message or addition (busy or briefly
    unreachable; anything else is re-raised): the message above the form, which keeps what was
    typed and the token just sent (`form.kept_token`), so sending again cannot save it twice."""
    if not database_unavailable(exc):
        raise exc
    logger.warning("follow-up: database unavailable; the form is shown again", exc_info=exc)
    form.add_error(None, message)
    try:
        form.kept_token = normalize_key(request.POST.get(FORM_FIELD, ""), field=FORM_FIELD)
    except ValidationFailed:  # no valid token was sent: the page gets a fresh one
        form.kept_token = None


def _staged_token(request):
    """The token of the files staged for an addition: the page's, else the one the last page
    shown to this browser carried (kept in the session by `_status_page`, so that the page
    after a redirect — a message sent, the consent saved — still lists them), else a new one."""
    for token in (
        request.POST.get("add-staged_token", "") if request.method == "POST" else "",
        request.session.get(_followup_staged_key(request.place), ""),
    ):
        if isinstance(token, str) and forms.TOKEN_RE.match(token):
            return token
    return secrets.token_hex(16)


# What makes an addition, in the page's one form (for its idempotency token).
ADDITION_FIELDS = ("action", "add-text", "add-staged_token", "add-staged_files", "add-files")


def _stage_addition_files(request, report, token, *, listed=None, counted=True):
    """Stage the files chosen in the addition's field under `token`; returns the refusals, one
    message per file. `listed` (the ids the page listed) gets the new ones. Not `counted`: a
    request the write limit has not counted yet (a language change) counts here, once."""
    uploads = request.FILES.getlist("add-files")
    if uploads and not counted and not rate_check(request, WRITE_SCOPE, WRITE_RATE).allowed:
        return [
            _(
                "%(name)s: too many things were sent from your connection in the last hour. "
                "Choose it again later."
            )
            % {"name": uploaded.name}
            for uploaded in uploads
        ]
    refusals = []
    for uploaded in uploads:
        try:
            evidence = services.report_evidence_stage(
                report=report, uploaded=uploaded, staged_token=token
            )
        except ValidationFailed as exc:
            refusals.append(
                _("%(name)s: %(reason)s") % {"name": uploaded.name, "reason": exc.message}
            )
        else:
            if listed is not None:
                listed.append(evidence.pk)
    return refusals


def _refused_addition(request, token, refusals):
    """The addition's form as the page carried it, each refused file named next to the files
    field; None when nothing was refused."""
    if not refusals:
        return None
    data = request.POST.copy()
    data["add-staged_token"] = token
    form = forms.AdditionForm(data, prefix="add")
    form.is_valid()
    for refusal in refusals:
        form.add_error("files", refusal)
    return form


def _addition_draft(data, token):
    """The addition's form showing what the page carried, without error messages."""
    return forms.AdditionForm(
        initial={"text": data.get("add-text", ""), "staged_token": token}, prefix="add"
    )


@rate_limited(WRITE_SCOPE, WRITE_RATE, methods=("POST",), refused=_write_refused)
def _add_information(request, report):
    """Add a text and/or files to the report. Files are staged first, so that a refused file
    or an error never loses the others, nor the text."""
    data = request.POST.copy()
    token = data["add-staged_token"] = _staged_token(request)
    action = request.POST.get("action", "")
    if action.startswith("add-remove-"):
        # Files chosen meanwhile are kept too: only the one named is removed.
        refusals = _stage_addition_files(request, report, token)
        evidence_id = parse_id(action.removeprefix("add-remove-"))
        if evidence_id is not None:
            services.evidence_unstage(
                place=request.place, staged_token=token, evidence_id=evidence_id
            )
        return _status_page(
            request,
            report,
            addition_form=_refused_addition(request, token, refusals)
            or _addition_draft(data, token),
            staged_token=token,
            status=422 if refusals else 200,
        )
    # Files travel in request.FILES and are staged one by one below, not through the form.
    form = forms.AdditionForm(data, prefix="add")
    # The files the page listed (each must still be there) and those sent with it.
    listed = forms.listed_files(data, "add-staged_files")
    refusals, response = [], None
    try:
        idempotency = form_idempotency(request, scope="followup.addition", fields=ADDITION_FIELDS)
        with idempotency as submission:
            if submission.response:
                if _replayed(submission) and _unsent_elsewhere(request, report, sent="add"):
                    return _status_page(
                        request,
                        report,
                        addition_form=forms.AdditionForm(
                            initial={"staged_token": token}, prefix="add"
                        ),
                        staged_token=token,
                    )
                return submission.response
            refusals = _stage_addition_files(request, report, token, listed=listed)
            if not refusals and form.is_valid():
                with transaction.atomic():
                    services.report_add_information(
                        report=report,
                        text=form.cleaned_data["text"],
                        staged_token=token,
                        staged_ids=listed,
                        base_url=_base_url(request),
                    )
                    response = submission.redirect(f"{request.path}#add-heading")
    except ValidationFailed as exc:
        _add_errors(form, exc)
    except DatabaseError as exc:
        _not_saved_yet(
            request,
            form,
            exc,
            _(
                "What you added has not been saved yet: Locus is very busy and could not save it "
                "just now. Your text and files are kept below: send them again in a moment."
            ),
        )
        return _status_page(
            request,
            report,
            addition_form=form,
            staged_token=token,
            status=ServiceUnavailable.status,
        )
    if response is not None and response.status_code == 303:
        messages.success(request, _("What you added has been saved with your report."))
        if _unsent_elsewhere(request, report, sent="add"):
            return _status_page(
                request,
                report,
                addition_form=forms.AdditionForm(initial={"staged_token": token}, prefix="add"),
                staged_token=token,
            )
        return response
    if response is not None:
        return response
    form.is_valid()
    for refusal in refusals:
        form.add_error("files", refusal)
    return _status_page(request, report, addition_form=form, staged_token=token, status=422)


def _status_page(
    request,
    report,
    *,
    consent_form=None,
    message_forms=None,
    addition_form=None,
    staged_token=None,
    errors=(),
    status=200,
):
    """The report as its reporter sees it. Every showing is audited (REPORT_FOLLOWED_UP), and
    the organisations' messages shown are marked read. The page is one form: shown again after
    a POST (an error, a language change), every box not given here shows what it carried."""
    threads = selectors.report_threads(report)
    data = request.POST if request.method == "POST" else QueryDict()
    message_forms = {
        thread.case.pk: _message_form(
            thread, initial={"body": data.get(f"thread-{thread.case.pk}-body", "")}
        )
        for thread in threads
    } | (message_forms or {})
    unread = {m.pk for thread in threads for m in thread.unread}
    staged_token = staged_token or _staged_token(request)
    # The page after a redirect (a message sent, consent saved) lists the same staged files.
    # Written only when it changes: a session write is a database write.
    if request.session.get(_followup_staged_key(request.place)) != staged_token:
        request.session[_followup_staged_key(request.place)] = staged_token
    if addition_form is None and data:
        addition_form = _addition_draft(data, staged_token)
    # Ticks changed but not saved (carried by a language change, or by another button): the
    # page keeps them and says they are not saved yet, "Who may receive it" naming what is.
    consent_unsaved = False
    if consent_form is None and data.get("consent-shown"):
        consent_form = _consent_draft(data)
        consent_unsaved = consent_form.initial != _consent_initial(report)
    # A message or addition the database could not save keeps the token it was sent with.
    kept_token = next(
        (
            form.kept_token
            for form in [*message_forms.values(), addition_form]
            if getattr(form, "kept_token", None)
        ),
        None,
    )
    staged = list(services.evidence_staged(place=request.place, staged_token=staged_token))
    context = {
        "report": report,
        "consent_form": consent_form
        or forms.ConsentChangeForm(initial=_consent_initial(report), prefix="consent"),
        "sharing": forms.sharing_sentence(
            consent_police_anonymised=report.consent_police_anonymised,
            consent_police_with_contact=report.consent_police_with_contact,
            consent_support_contact=report.consent_support_contact,
        ),
        "evidence": list(selectors.report_evidence(report)),
        "routing": _routing_sentences(report),
        "threads": [
            {"thread": thread, "form": message_forms[thread.case.pk]} for thread in threads
        ],
        "unread": unread,
        "token_form": forms.TokenForm(),
        "kept_token": kept_token,
        "consent_unsaved": consent_unsaved,
        "readers": [thread.organisation.name for thread in threads if thread.reads_report],
        "addition_form": addition_form
        or forms.AdditionForm(initial={"staged_token": staged_token}, prefix="add"),
        "staged": staged,
        "listed_files": forms.listed_value(staged),
        # Errors of no form (no organisation chosen), and the message forms (one was sent):
        # the error summary lists them at the top, "Error:" in the title (base.html).
        "summary_errors": errors,
        "message_forms": message_forms,
        "language_form": FOLLOWUP_FORM_ID,
        # Enter in a consent box saves the choices, as when they had a form of their own (the
        # header's "Change language", first in the page, would otherwise be the default).
        "language_default": "consent",
    }
    services.report_messages_mark_read(
        report=report, messages=[m for thread in threads for m in thread.messages]
    )
    services.report_record_followup(report=report, channel="web")
    response = render(request, "reporting/followup_status.html", context, status=status)
    if status == ServiceUnavailable.status:
        response["Retry-After"] = str(ServiceUnavailable.retry_after)
    return response


def _erased_page(request, report, *, status=200):
    """What is left to show once the reporter had their data erased: that it was done."""
    return error_page(request, "reporting/followup_erased.html", {"report": report}, status=status)


def _session_report(request):
    """The report this browser opened, if its data is still there; else None."""
    report = _followed_report(request)
    if report is None or selectors.report_is_erased(report):
        return None
    return report


@never_cache
def followup_copy(request, place_slug):
    """A readable (and printable) copy of everything Locus holds about the report."""
    report = _session_report(request)
    if report is None:
        return _see_other(_followup_url(request.place))
    copy = selectors.report_copy(report, language=get_language())
    services.report_record_copy(report=report, channel="web", file_format="html")
    return render(request, "reporting/followup_copy.html", {"report": report, "copy": copy})


@never_cache
def followup_copy_download(request, place_slug):
    """The same copy as a JSON file to keep (the API's `…/follow-up/copy` gives the same)."""
    report = _session_report(request)
    if report is None:
        return _see_other(_followup_url(request.place))
    copy = selectors.report_copy(report, language=get_language())
    services.report_record_copy(report=report, channel="web", file_format="json")
    response = JsonResponse(
        copy, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="locus-report-{report.reference}.json"'
    return response


@never_cache
def followup_erase(request, place_slug):
    """Erasure on request: a page that says what happens, and a confirmation to tick. The
    header's language switcher joins its form (action "language", as on the follow-up page),
    so a language change keeps the tick; it erases nothing."""
    language = _chosen_language(request)
    if language:
        use_language(request, language)
    report = _session_report(request)
    if report is None:
        response = _see_other(_followup_url(request.place))
        return remember_language(response, language) if language else response
    if request.method == "POST" and request.POST.get("action") == "language":
        form = forms.ErasureForm()
        form.initial = {
            name: field.widget.value_from_datadict(request.POST, {}, name)
            for name, field in form.fields.items()
        }
        response = _erase_page(request, report, form)
        return remember_language(response, language) if language else response
    if request.method == "POST":
        return _erase(request, report)
    return _erase_page(request, report, forms.ErasureForm())


def _erase(request, report):
    """Counted per report, not per client: only a browser that opened the report gets here, so
    nobody else's requests from the same address (`followup.open`) can hold up its erasure."""
    decision = rate_check(request, "followup.erase", "10/h", client=f"report:{report.pk}")
    form = forms.ErasureForm(request.POST)
    if not decision.allowed:
        # The page again, the box as ticked, saying when to try again (429, Retry-After).
        form.is_valid()
        form.add_error(
            None,
            _(
                "Not erased yet: an erasure of this report was asked for too many times in the "
                "last hour."
            )
            + " "
            + try_again_in(decision.retry_after),
        )
        response = _erase_page(request, report, form, status=429)
        response["Retry-After"] = str(decision.retry_after)
        return response
    if form.is_valid():
        # Erased meanwhile (a double click): the follow-up page says so.
        with contextlib.suppress(services.ReportErased):
            services.report_erase(report=report, base_url=_base_url(request))
        # Files chosen for an addition and not added yet are the reporter's too: gone as well.
        staged_token = request.session.pop(_followup_staged_key(request.place), "")
        if isinstance(staged_token, str) and forms.TOKEN_RE.match(staged_token):
            services.evidence_discard_staged(place=request.place, staged_token=staged_token)
        return _see_other(_followup_url(request.place))
    return _erase_page(request, report, form, status=422)


def _erase_page(request, report, form, status=200):
    context = {
        "report": report,
        "form": form,
        "organisations": [t.organisation.name for t in selectors.report_threads(report)],
        "language_form": FOLLOWUP_ERASE_FORM_ID,
        # Enter on the confirmation box erases, as before the switcher joined the form.
        "language_default": "erase",
    }
    return render(request, "reporting/followup_erase.html", context, status=status)
