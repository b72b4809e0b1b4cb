"""{% load locus_forms %}{% error_summary as summary %}: the errors of the forms a page shows
again after a POST, for the error summary at the top of every page (base.html,
includes/error_summary.html) and the "Error:" before its title.

The page's forms are found in the template context, so no view or template has to remember to
pass them: a form counts when it was bound to the request's POST data and validated with
errors (a filter form bound to the query string shows its errors next to its fields only), or
when its class says it is sent even with GET (`summarise_errors`: a download's form, shown
again on a page of its own when refused). A page's errors that belong to no form (the report
journey's check page, a follow-up action refused) are given as `summary_errors`, a list of
texts: listed first, without a link.
"""

from django import forms, template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

register = template.Library()

# A label that ends with one of these (a question: "What happened?") is followed by its error
# without a colon.
LABEL_PUNCTUATION = ("?", "!", ":")


def _field_target(bound_field):
    """The id of the element a summary link moves to: the input itself, or the first input of
    a group of radios or check boxes (its <label for> is left out on purpose, so
    `id_for_label` is empty); None for a hidden field, which has nothing to move to."""
    if bound_field.is_hidden:
        return None
    target = getattr(bound_field.form, "error_targets", {}).get(bound_field.name)
    if target:
        return target
    if bound_field.id_for_label:
        return bound_field.id_for_label
    subwidgets = bound_field.subwidgets
    if subwidgets and subwidgets[0].id_for_label:
        return subwidgets[0].id_for_label
    return bound_field.auto_id or None


def form_error_items(form):
    """[{"text", "target"}] for one form: its errors as a whole first (no link: they are
    above the form; left out when the form focuses them there, `focus_errors`, so that they are
    said once), then each field's errors in the order of the fields, each naming its field
    ("Name: This field is required.") and linking to it. A form may name itself
    (`error_summary_name`, the rule page's sample report), when its labels repeat another's."""
    items = []
    if not getattr(form, "focus_errors", False):  # else shown once, above the form, focused
        items = [{"text": str(error), "target": None} for error in form.non_field_errors()]
    name = getattr(form, "error_summary_name", None)
    for field in form:
        for error in field.errors:
            if name:
                # Translators: an error in the summary at the top of a page, of a form that
                # names itself ("Sample report"), then the field's label, then the error.
                text = _("%(form)s, %(field)s: %(error)s") % {
                    "form": name,
                    "field": field.label,
                    "error": error,
                }
            elif str(field.label).rstrip().endswith(LABEL_PUNCTUATION):
                # "What happened? Choose what happened.", not "What happened?: Choose…"
                text = pgettext(
                    "a label ending with its own punctuation (a question), and its error",
                    "%(label)s %(error)s",
                ) % {"label": field.label, "error": error}
            else:
                text = pgettext("a label and its value", "%(label)s: %(value)s") % {
                    "label": field.label,
                    "value": error,
                }
            items.append({"text": text, "target": _field_target(field)})
    return items


def _posted_forms(context):
    """The forms in the context bound to this POST request's data and refused, each once, in
    the order the context names them (formsets give their forms)."""
    request = context.get("request")
    if request is None:
        return []
    posted = request.method == "POST"
    found, seen = [], set()

    def add(form):
        # `_errors` is None until the view validated the form: rendering must not validate it.
        if id(form) in seen or not form.is_bound:
            return
        # A download's form is sent with GET and shown again on a page of its own when refused.
        sent = getattr(form, "summarise_errors", False) or (posted and form.data is not request.GET)
        if sent and form._errors:
            seen.add(id(form))
            found.append(form)

    def visit(value, depth=0):
        if isinstance(value, forms.BaseForm):
            add(value)
        elif isinstance(value, forms.BaseFormSet):
            if value.is_bound:
                for form in value.forms:
                    add(form)
        elif depth == 0 and isinstance(value, dict):  # the case page's {"note": NoteForm, …}
            for item in value.values():
                visit(item, 1)

    for value in context.flatten().values():
        visit(value)
    return found


@register.simple_tag(takes_context=True)
def error_summary(context):
    """{"errors", "focus"} for the page's refused forms (the title says "Error:"), or None.
    The summary (shown when `errors` has any) takes the focus on load, so that the browser
    scrolls to it and a screen reader reads it first, unless a view chose to focus a form's own
    error instead (`focus_errors` / `focus_field` on the form: the long case page,
    docs/cases.md). `summary_errors` in the context: a page's errors of no form."""
    posted = _posted_forms(context)
    page_errors = [str(text) for text in context.get("summary_errors") or ()]
    if not posted and not page_errors:
        return None
    items = [{"text": text, "target": None} for text in page_errors]
    items += [item for form in posted for item in form_error_items(form)]
    focus = not any(
        getattr(form, "focus_errors", False) or getattr(form, "focus_field", False)
        for form in posted
    )
    return {"errors": items, "focus": focus}
