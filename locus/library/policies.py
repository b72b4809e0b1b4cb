"""Who may see what in the library. Pure predicates: the selectors supply the facts.

The library is network-wide, so its editors are not tied to a place: a person is a library
editor through any active membership with the editor role, and platform staff always are.
Moderation (issue 5 §6) will refine this; today editors see drafts and the private notes.
"""

from locus.accounts.choices import Role

from .choices import RecordStatus

LIBRARY_EDITOR_ROLES = frozenset({Role.EDITOR})


def is_library_editor(user, roles):
    """`roles`: the roles of the user's active memberships."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_staff or user.is_superuser or LIBRARY_EDITOR_ROLES & set(roles))


def can_view_record(record, *, editor):
    """Published records are public; the others are for editors only."""
    return record.status == RecordStatus.PUBLISHED or editor


def can_see_private_fields(*, editor):
    """The editors' notes and the provenance of the metadata never leave the editors."""
    return editor
