"""Staff pages of the routing-rule editor (list, edit, order, enable, delete, preview). Parse,
call one service or selector, render. Every change is validated and audited by the services;
a preview saves nothing."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from locus.accounts.decorators import staff_view
from locus.accounts.policies import Capability
from locus.core.errors import ApplicationError
from locus.directory.selectors import organisation_list

from . import rule_selectors, rule_services, selectors, services
from .rule_forms import (
    RULE_ERROR_FIELDS,
    ActiveForm,
    MoveForm,
    RuleForm,
    SampleForm,
    condition_summary_texts,
)


def _add_errors(form, exc, names=None):
    """Put an application error next to its fields (or at the top of the form)."""
    names = names or {}
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, msgs in exc.fields.items():
        name = names.get(field, field)
        for message in msgs:
            form.add_error(name if name in form.fields else None, message)


def _rule_or_404(place, rule_id):
    rule = selectors.access_routing_rule(place, rule_id)
    if rule is None:
        raise Http404
    return rule


def _list_url(place, rule=None):
    url = reverse("cases:rules", kwargs={"place_slug": place.slug})
    return f"{url}#rule-{rule.pk}" if rule is not None else url


@staff_view(Capability.MANAGE_ROUTING)
def rules(request):
    """The place's rules in evaluation order, each in plain words, with the fallback and the
    warnings (no fallback, several), and the latest changes."""
    place, language = request.place, get_language()
    views = rule_selectors.routing_rule_views(place, language=language)
    names = {str(view.rule.pk): view.rule.name for view in views}
    events = list(rule_selectors.routing_rule_history(place, limit=10))
    rule_names = rule_selectors.history_rule_names(events, names)
    context = {
        "views": views,
        "fallbacks": rule_selectors.fallback_rules(views),
        "warnings": selectors.routing_rule_warnings(place),
        "history": [
            {
                "event": event,
                "what": rule_selectors.describe_change(event),
                "rule": rule_names[event.target_id],
            }
            for event in events
        ],
    }
    return render(request, "cases/rules/list.html", context)


def _preview_context(place, language, preview):
    """The preview's results in words, and what the edit changes (when a draft was tried)."""
    organisations = list(organisation_list(place=place))
    names = rule_selectors.area_names(place)
    current = rule_selectors.describe_result(
        preview.current,
        place=place,
        language=language,
        specs=preview.current_specs,
        organisations=organisations,
        names=names,
    )
    context = {"current": current}
    if preview.draft is not None:
        draft = rule_selectors.describe_result(
            preview.draft,
            place=place,
            language=language,
            specs=preview.draft_specs,
            organisations=organisations,
            names=names,
        )
        context["draft"] = draft
        context["changes"] = rule_selectors.compare_results(current, draft, language=language)
    return context


@staff_view(Capability.MANAGE_ROUTING)
def rule_edit(request, rule_id=None):
    """Create or edit a rule. "Try it" runs a sample report through the rules as edited, next
    to the rules as saved, and saves nothing; "Save" saves (validated and audited)."""
    place, language = request.place, get_language()
    rule = _rule_or_404(place, rule_id) if rule_id is not None else None
    posted = request.POST if request.method == "POST" else None
    action = posted.get("action") if posted else None
    if rule is not None:
        initial = RuleForm.initial_for(rule)
    else:
        initial = {"is_active": True, "is_fallback": request.GET.get("fallback") == "1"}
    form = RuleForm(posted, place=place, language=language, initial=initial)
    sample_form = SampleForm(
        posted if action == "preview" else None, place=place, language=language
    )
    preview = None
    status = 200
    if posted is not None:
        if action not in ("save", "preview"):
            messages.error(request, _("Unknown action."))
            status = 422
        elif not all([form.is_valid(), action == "save" or sample_form.is_valid()]):
            status = 422  # the errors are at their fields and in the summary at the top
        elif action == "save":
            try:
                saved = rule_services.routing_rule_write(
                    place=place, actor=request.user, rule=rule, **form.rule_fields()
                )
            except ApplicationError as exc:
                _add_errors(form, exc, RULE_ERROR_FIELDS)
                status = 422
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
                return redirect(_list_url(place, saved))
        else:
            try:
                draft = rule_services.routing_rule_draft(
                    place=place, rule=rule, **form.rule_fields()
                )
            except ApplicationError as exc:
                _add_errors(form, exc, RULE_ERROR_FIELDS)
                status = 422
            else:
                try:
                    preview = rule_services.routing_preview_compare(
                        place=place, sample=sample_form.sample(), draft=draft
                    )
                except ApplicationError as exc:
                    _add_errors(sample_form, exc)
                    status = 422
    context = {
        "rule": rule,
        "form": form,
        "sample_form": sample_form,
        "condition_groups": form.condition_groups(),
        "condition_texts": condition_summary_texts(),
        "history": [
            {"event": event, "what": rule_selectors.describe_change(event)}
            for event in rule_selectors.routing_rule_history(place, rule.pk)
        ]
        if rule is not None
        else [],
    }
    if preview is not None:
        context.update(_preview_context(place, language, preview))
    return render(request, "cases/rules/edit.html", context, status=status)


@staff_view(Capability.MANAGE_ROUTING)
@require_POST
def rule_move(request, rule_id):
    """Move a rule up or down the evaluation order (a form per button: no JavaScript)."""
    place = request.place
    rule = _rule_or_404(place, rule_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose up or down."))
        return redirect(_list_url(place, rule))
    offset = -1 if form.cleaned_data["direction"] == "up" else 1
    try:
        rule_services.routing_rule_move(place=place, actor=request.user, rule=rule, offset=offset)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Rule “%(name)s” moved.") % {"name": rule.name})
    return redirect(_list_url(place, rule))


@staff_view(Capability.MANAGE_ROUTING)
@require_POST
def rule_active(request, rule_id):
    """Enable or disable a rule."""
    place = request.place
    rule = _rule_or_404(place, rule_id)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to enable or disable the rule."))
        return redirect(_list_url(place, rule))
    is_active = form.cleaned_data["is_active"]
    try:
        rule_services.routing_rule_write(
            place=place, actor=request.user, rule=rule, is_active=is_active
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        text = _("Rule “%(name)s” enabled.") if is_active else _("Rule “%(name)s” disabled.")
        messages.success(request, text % {"name": rule.name})
    return redirect(_list_url(place, rule))


@staff_view(Capability.MANAGE_ROUTING)
def rule_delete(request, rule_id):
    """Ask, then delete a rule. Reports it already routed keep their explanation."""
    place = request.place
    rule = _rule_or_404(place, rule_id)
    if request.method == "POST":
        try:
            services.routing_rule_delete(place=place, actor=request.user, rule=rule)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(_list_url(place, rule))
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect(_list_url(place))
    view = rule_selectors.routing_rule_views(place, language=get_language(), rules=[rule])[0]
    # Deleting the one enabled fallback leaves unmatched reports with the team only: say so.
    last_fallback = (
        rule.is_fallback and rule.is_active and not selectors.routing_rule_warnings(place)
    )
    context = {"rule": rule, "view": view, "last_fallback": last_fallback}
    return render(request, "cases/rules/delete.html", context)


@staff_view(Capability.MANAGE_ROUTING)
def rules_try(request):
    """Try the saved rules on a sample report (a GET form: nothing is saved, the address can
    be shared)."""
    place, language = request.place, get_language()
    form = SampleForm(request.GET or None, place=place, language=language)
    context = {"sample_form": form}
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                preview = rule_services.routing_preview_compare(place=place, sample=form.sample())
            except ApplicationError as exc:
                _add_errors(form, exc)
                status = 422
            else:
                context.update(_preview_context(place, language, preview))
        else:
            status = 422
    return render(request, "cases/rules/try.html", context, status=status)
