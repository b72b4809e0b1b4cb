"""`{% record_moderation_panel record %}` (status, the editors' comment and the owners' or
editors' next step) and `{% more_like_this record %}` for a record's page, so that the record
view itself needs no change."""

from django import template

from locus.library import policies, selectors
from locus.library.choices import RecordStatus
from locus.library.review_selectors import record_review_steps, user_organisation_ids

register = template.Library()


@register.inclusion_tag("library/review/record_panel.html", takes_context=True)
def record_moderation_panel(context, record):
    request = context.get("request")
    user = getattr(request, "user", None)
    organisation_ids = user_organisation_ids(user)
    editor = context.get("editor", False)
    owner = policies.is_owner(record, organisation_ids)
    show = owner or (editor and record.status == RecordStatus.IN_REVIEW)
    steps = record_review_steps(record) if show else []
    return {
        "record": record,
        "show": show,
        "owner": owner,
        "latest": steps[0] if steps else None,
        "can_edit": policies.can_edit_draft(record, organisation_ids),
        "can_check": policies.can_mark_checked(record, organisation_ids),
        "can_review": bool(user) and policies.can_review(record, user, editor=editor),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("library/review/more_like_this.html")
def more_like_this(record):
    if record.status != RecordStatus.PUBLISHED:
        return {"similar": None}
    return {"similar": selectors.similar_records(record)}


@register.inclusion_tag("library/review/library_nav.html", takes_context=True)
def library_nav(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    contributor = bool(user and user.is_authenticated and user_organisation_ids(user))
    return {"contributor": contributor, "editor": selectors.library_editor(user)}
