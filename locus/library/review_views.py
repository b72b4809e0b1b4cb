"""Contributing records and moderating them (issue 5 §6). Network-wide pages (no place in the
address), for signed-in people: a member of any organisation contributes for it; library
editors (policies.is_library_editor) review. Someone else's draft is a 404, like a missing
one; a page the person's role does not allow is a 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from locus.core.errors import ValidationFailed

from . import moderation, policies, review_selectors, selectors
from .models import Record
from .review_forms import RecordContributionForm, ReviewDecisionForm


def _base_url(request):
    return request.build_absolute_uri("/").rstrip("/")


def _organisations(request):
    organisations = list(review_selectors.user_organisations(request.user))
    if not organisations:
        raise PermissionDenied(_("Only members of an organisation contribute to the library."))
    return organisations


def _owned_record(request, record_id, organisation_ids):
    record = Record.objects.select_related("organisation").filter(pk=record_id).first()
    if record is None or not policies.is_owner(record, organisation_ids):
        raise Http404
    return record


def _save_form(request, form, *, save):
    """Run `save(form)` and put the services' errors next to the fields; None on failure."""
    if not form.is_valid():
        return None
    try:
        return save(form)
    except ValidationFailed as exc:
        form.add_service_errors(exc.fields or {"__all__": [exc.message]})
        return None


@login_required
def contribute(request):
    """A new draft for one of the person's organisations."""
    organisations = _organisations(request)
    by_id = {org.pk: org for org in organisations}
    form = RecordContributionForm(
        request.POST or None,
        organisations=organisations,
        initial={"organisation": organisations[0].pk, "languages": request.LANGUAGE_CODE},
    )
    if request.method == "POST":
        record = _save_form(
            request,
            form,
            save=lambda form: moderation.record_draft_create(
                actor=request.user,
                organisation=by_id.get(form.cleaned_data["organisation"]),
                data=form.record_data(),
            ),
        )
        if record is not None:
            messages.success(
                request,
                _("Draft saved. Only your organisation sees it until an editor publishes it."),
            )
            return redirect("library:record", record_id=record.pk)
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request, "library/review/contribute.html", {"form": form, "record": None}, status=status
    )


@login_required
def draft_edit(request, record_id):
    organisations = _organisations(request)
    ids = {org.pk for org in organisations}
    record = _owned_record(request, record_id, ids)
    if not policies.can_edit_draft(record, ids):
        raise PermissionDenied(_("Only a draft can be edited."))
    initial = RecordContributionForm.initial_for(record)
    form = RecordContributionForm(
        request.POST or None, organisations=[record.organisation], initial=initial
    )
    if request.method == "POST":
        changed = _save_form(
            request,
            form,
            save=lambda form: (
                moderation.record_draft_update(
                    actor=request.user, record=record, data=form.record_data()
                )
                or []
            ),
        )
        if changed is not None:
            messages.success(request, _("Draft saved."))
            return redirect("library:record", record_id=record.pk)
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request, "library/review/contribute.html", {"form": form, "record": record}, status=status
    )


@login_required
@require_POST
def draft_submit(request, record_id):
    ids = review_selectors.user_organisation_ids(request.user)
    record = _owned_record(request, record_id, ids)
    if not policies.can_edit_draft(record, ids):
        raise PermissionDenied(_("Only a draft can be submitted for review."))
    moderation.record_submit(actor=request.user, record=record, base_url=_base_url(request))
    messages.success(request, _("Submitted: a library editor will review it."))
    return redirect("library:mine")


@login_required
@require_POST
def record_checked(request, record_id):
    ids = review_selectors.user_organisation_ids(request.user)
    record = _owned_record(request, record_id, ids)
    if not policies.can_mark_checked(record, ids):
        raise PermissionDenied(_("Only a published record is checked."))
    moderation.record_mark_checked(actor=request.user, record=record)
    messages.success(request, _("Thank you: the record is marked as current."))
    if request.POST.get("next") == "mine":
        return redirect("library:mine")
    return redirect("library:record", record_id=record.pk)


@login_required
def mine(request):
    """The records of the person's organisations: drafts, in review, published, with the
    editors' latest comment and the records due for their yearly check."""
    organisations = _organisations(request)
    rows = review_selectors.organisation_records({org.pk for org in organisations})
    return render(
        request,
        "library/review/mine.html",
        {
            "organisations": organisations,
            "organisation_names": ", ".join(org.name for org in organisations),
            "rows": rows,
        },
    )


def _editor(request):
    if not selectors.library_editor(request.user):
        raise PermissionDenied(_("Only library editors review records."))


@login_required
def queue(request):
    """Records waiting for review, the longest-waiting first (editors)."""
    _editor(request)
    return render(request, "library/review/queue.html", {"rows": review_selectors.review_queue()})


@login_required
def review(request, record_id):
    """One record in review: the editor approves it, asks for changes or rejects it."""
    _editor(request)
    record = (
        Record.objects.select_related("organisation", "created_by").filter(pk=record_id).first()
    )
    if record is None:
        raise Http404
    if not policies.can_review(record, request.user, editor=True):
        if record.created_by_id == request.user.pk:
            raise PermissionDenied(_("Another editor reviews the records you submitted."))
        messages.info(request, _("This record is not waiting for review."))
        return redirect("library:record", record_id=record.pk)
    form = ReviewDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            step = moderation.record_review(
                actor=request.user,
                record=record,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
                base_url=_base_url(request),
            )
        except ValidationFailed as exc:
            for name, errors in (exc.fields or {"__all__": [exc.message]}).items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, str(error))
        else:
            messages.success(
                request,
                pgettext("a label and its value", "%(label)s: %(value)s")
                % {"label": step.get_action_display(), "value": record.title},
            )
            return redirect("library:review_queue")
    status = 422 if form.is_bound and form.errors else 200
    context = {
        "record": record,
        "form": form,
        "steps": review_selectors.record_review_steps(record),
        "versions": selectors.record_versions(record)[:5],
    }
    return render(request, "library/review/review.html", context, status=status)
