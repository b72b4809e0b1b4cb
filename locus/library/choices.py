from django.db import models
from django.utils.translation import gettext_lazy as _


class ResourceType(models.TextChoices):
    EVALUATION = "evaluation", _("Evaluation")
    GUIDE = "guide", _("Guide")
    TOOLKIT = "toolkit", _("Toolkit")
    TEMPLATE = "template", _("Template")
    TRAINING = "training", _("Training")
    CASE_STUDY = "case_study", _("Case study")
    POLICY = "policy", _("Policy or framework")
    DATASET = "dataset", _("Dataset")


class RecordStatus(models.TextChoices):
    """Only published records are public; moderation moves records between these."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class EvidenceLevel(models.TextChoices):
    """How strong the evidence a resource presents is, weakest first (docs/library.md). Every
    step is credited: a careful description of practice is evidence too."""

    PRACTICE_DESCRIPTION = "practice_description", _("Practice description")
    MONITORING_DATA = "monitoring_data", _("Monitoring data")
    PRE_POST = "pre_post", _("Before and after")
    COMPARISON_GROUP = "comparison_group", _("Comparison group")
    EXPERIMENTAL = "experimental", _("Experimental")


# 1 (practice description) … 5 (experimental): the scale's order.
EVIDENCE_RANK = {level.value: rank for rank, level in enumerate(EvidenceLevel, start=1)}

EVIDENCE_DESCRIPTIONS = {
    EvidenceLevel.PRACTICE_DESCRIPTION: _(
        "What was done, for whom and how, described by the people who did it or by observers."
    ),
    EvidenceLevel.MONITORING_DATA: _(
        "Figures collected while the work ran: reach, activities, participants, outputs."
    ),
    EvidenceLevel.PRE_POST: _(
        "The same outcomes measured before and after the work, without a comparison group."
    ),
    EvidenceLevel.COMPARISON_GROUP: _(
        "Outcomes compared with a similar group that did not take part (quasi-experimental)."
    ),
    EvidenceLevel.EXPERIMENTAL: _(
        "Participants assigned at random to the work or to a control group."
    ),
}

# The facet value of records without an evidence level.
EVIDENCE_NOT_RATED = "not_rated"


class Licence(models.TextChoices):
    UNKNOWN = "unknown", _("Not stated")
    ALL_RIGHTS_RESERVED = "all_rights_reserved", _("All rights reserved")
    CC0 = "cc0_1_0", _("CC0 1.0 (public domain)")
    CC_BY = "cc_by_4_0", _("CC BY 4.0")
    CC_BY_SA = "cc_by_sa_4_0", _("CC BY-SA 4.0")
    CC_BY_NC = "cc_by_nc_4_0", _("CC BY-NC 4.0")
    CC_BY_NC_SA = "cc_by_nc_sa_4_0", _("CC BY-NC-SA 4.0")
    CC_BY_ND = "cc_by_nd_4_0", _("CC BY-ND 4.0")
    CC_BY_NC_ND = "cc_by_nc_nd_4_0", _("CC BY-NC-ND 4.0")
    OGL_UK = "ogl_uk_3_0", _("Open Government Licence v3.0 (UK)")


class TrainingFormat(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online, live")
    SELF_PACED = "self_paced", _("Online, self-paced")
    BLENDED = "blended", _("Blended")


class TrainingLevel(models.TextChoices):
    INTRODUCTORY = "introductory", _("Introductory")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class Provenance(models.TextChoices):
    """How sure the editors are of a record's metadata (the seed's [V]/[M]/[U] markers).
    Private to editors."""

    VERIFIED = "verified", _("Verified against the publisher's page")
    MEMORY = "memory", _("From memory, not re-verified")
    UNCERTAIN = "uncertain", _("Some details uncertain")


class LinkKind(models.TextChoices):
    """How one record relates to another, read from the record that holds the link."""

    RELATED = "related", _("Related to")
    COMPANION = "companion", _("Companion to")
    PART_OF = "part_of", _("Part of")
    SUPERSEDES = "supersedes", _("Supersedes")
    TRANSLATION_OF = "translation_of", _("Translation of")


# How the same link reads from the other record.
LINK_INVERSE_LABELS = {
    LinkKind.RELATED: _("Related to"),
    LinkKind.COMPANION: _("Companion to"),
    LinkKind.PART_OF: _("Includes"),
    LinkKind.SUPERSEDES: _("Superseded by"),
    LinkKind.TRANSLATION_OF: _("Translated as"),
}


class VersionSource(models.TextChoices):
    EDITOR = "editor", _("Edited")
    IMPORT = "import", _("Imported")
    SYSTEM = "system", _("Changed by Locus")


class SearchSort(models.TextChoices):
    RELEVANCE = "relevance", _("Relevance")
    NEWEST = "newest", _("Newest first")
    OLDEST = "oldest", _("Oldest first")
