from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    COORDINATOR = "coordinator", _("Coordinator")
    CASEWORKER = "caseworker", _("Caseworker")
    ANALYST = "analyst", _("Analyst")
    EDITOR = "editor", _("Editor")
    MEMBER = "member", _("Member")


# What each role may do, in a sentence, beside the role pickers: the rules are in policies.py
# (ROLE_CAPABILITIES, place-wide rights); locus/accounts/tests/test_role_names.py checks them.
ROLE_DESCRIPTIONS = {
    Role.ADMIN: _(
        "Everything the other roles do, plus the organisation's members, webhooks and handling "
        "targets; in the team that runs Locus here also the place's settings and areas. Sees "
        "the personal data of reports."
    ),
    Role.COORDINATOR: _(
        "The organisation's cases, directory entry and programmes; in the team that runs Locus "
        "here also the routing rules, the whole directory and the exact figures. Sees the "
        "personal data of reports."
    ),
    Role.CASEWORKER: _(
        "The organisation's cases: acknowledge them, write to the reporter, hand them on, close "
        "them. Sees the personal data of reports."
    ),
    Role.ANALYST: _(
        "In the team that runs Locus here: the exact figures, exports, alarms and indicators. "
        "No personal data."
    ),
    Role.EDITOR: _(
        "The organisation's directory entry, services and programmes; reviews library records. "
        "No personal data."
    ),
    Role.MEMBER: _("The staff home and the library. No personal data."),
}


class NetworkRole(models.TextChoices):
    VIEWER = "viewer", _("Network viewer (aggregates only)")
