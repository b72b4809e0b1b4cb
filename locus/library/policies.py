"""Who may see what in the library. Pure predicates: the selectors supply the facts.

The library is network-wide, so its editors are not tied to a place: a person is a library
editor through any active membership with the editor role, and platform staff always are.
Editors see drafts and the private notes and decide on submissions; the members of a
contributing organisation see and edit its drafts (docs/library.md, "Contribution and
moderation").
"""

from locus.accounts.choices import Role

from .choices import RecordStatus

LIBRARY_EDITOR_ROLES = frozenset({Role.EDITOR})


def is_library_editor(user, roles):
    """`roles`: the roles of the user's active memberships."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_staff or user.is_superuser or LIBRARY_EDITOR_ROLES & set(roles))


def can_view_record(record, *, editor, organisation_ids=()):
    """Published records are public; the others are for editors and for the members of the
    contributing organisation (drafts are private to it)."""
    return (
        record.status == RecordStatus.PUBLISHED
        or editor
        or (record.organisation_id is not None and record.organisation_id in organisation_ids)
    )


def can_see_private_fields(*, editor):
    """The editors' notes and the provenance of the metadata never leave the editors."""
    return editor


# --- contribution and moderation (docs/library.md) -----------------------------------------


def can_contribute(user, organisation_ids):
    """Any active member of an organisation contributes records for it."""
    return bool(user is not None and user.is_authenticated and user.is_active and organisation_ids)


def is_owner(record, organisation_ids):
    return record.organisation_id is not None and record.organisation_id in organisation_ids


def can_edit_draft(record, organisation_ids):
    """The contributing organisation's members edit and submit its drafts."""
    return record.status == RecordStatus.DRAFT and is_owner(record, organisation_ids)


def can_mark_checked(record, organisation_ids):
    return record.status == RecordStatus.PUBLISHED and is_owner(record, organisation_ids)


def can_review(record, user, *, editor):
    """Editors decide on records in review — not on one they submitted themselves."""
    return (
        editor
        and record.status == RecordStatus.IN_REVIEW
        and (record.created_by_id is None or record.created_by_id != user.pk)
    )
