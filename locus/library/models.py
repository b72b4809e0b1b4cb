"""The library: evaluations, guides, toolkits, training and good practice for the whole
network. Global models (not per place): any member organisation contributes, everyone reads
what is published. Writes go through `services.py`, which keeps the versions, the facet rows
and the search index in step with each record."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorExact
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import (
    EvidenceLevel,
    Licence,
    LinkKind,
    Provenance,
    RecordStatus,
    ResourceType,
    TrainingFormat,
    TrainingLevel,
    VersionSource,
)

YEAR_MIN = 1900
YEAR_MAX = 2100


class SearchVectorField(models.Field):
    """`tsvector` on PostgreSQL (indexed with GIN); an unused, always empty column elsewhere,
    where the FTS5 table does the work. Not django.contrib.postgres' field, which would need
    that app installed on SQLite too."""

    description = "PostgreSQL text-search vector"

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"


SearchVectorField.register_lookup(SearchVectorExact)


class Record(models.Model):
    """One resource in the library: its metadata, never the resource itself (files come later).

    Multi-valued codes (languages, countries, vocabulary axes) are JSON lists of codes, copied
    into `RecordFacet` rows by the services for counting and filtering.
    """

    type = models.CharField(_("type"), max_length=20, choices=ResourceType.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )
    title = models.CharField(_("title"), max_length=500)
    summary = models.TextField(_("summary"), blank=True)
    authors = models.TextField(_("authors"), blank=True, help_text=_("One name per line."))
    publisher = models.CharField(_("publisher"), max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    is_ongoing = models.BooleanField(
        _("updated continuously since that year"),
        default=False,
        help_text=_("A collection, database or platform rather than one publication."),
    )
    # ISO 639-1 codes ("mul": several languages); the first is the language of the title and
    # summary, which chooses the stemming of the search index.
    languages = models.JSONField(_("languages"), default=list, blank=True)
    countries = models.JSONField(_("countries"), default=list, blank=True)  # ISO 3166-1 alpha-2
    regions = models.JSONField(_("regions"), default=list, blank=True)
    localities = models.JSONField(
        _("cities and local areas"), default=list, blank=True, help_text=_("Names, as written.")
    )
    coverage = models.CharField(
        _("geographic coverage"),
        max_length=300,
        blank=True,
        help_text=_("Where the resource applies, in words (as the publisher says it)."),
    )
    topics = models.JSONField(_("topics"), default=list, blank=True)
    interventions = models.JSONField(_("types of intervention"), default=list, blank=True)
    target_groups = models.JSONField(_("target groups"), default=list, blank=True)
    outcomes = models.JSONField(_("outcomes measured"), default=list, blank=True)
    methods = models.JSONField(_("methods"), default=list, blank=True)
    vocabulary_version = models.CharField(max_length=20, verbose_name=_("vocabulary version"))
    evidence_level = models.CharField(
        _("evidence level"), max_length=24, choices=EvidenceLevel.choices, blank=True
    )
    licence = models.CharField(
        _("licence"), max_length=24, choices=Licence.choices, default=Licence.UNKNOWN
    )
    url = models.URLField(_("web address"), max_length=2000, blank=True)
    organisation = models.ForeignKey(
        "directory.Organisation",
        verbose_name=_("contributing organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="library_records",
    )
    training_duration = models.CharField(_("duration"), max_length=100, blank=True)
    training_format = models.CharField(
        _("format"), max_length=12, choices=TrainingFormat.choices, blank=True
    )
    training_level = models.CharField(
        _("level"), max_length=12, choices=TrainingLevel.choices, blank=True
    )

    # Editors only: never on a public page or in the public API.
    private_notes = models.TextField(_("editors' notes"), blank=True)
    provenance = models.CharField(
        _("provenance of the metadata"), max_length=12, choices=Provenance.choices, blank=True
    )

    # SHA-256 of the key an import matched this record on (docs/library.md); null when the
    # record was never imported.
    import_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        verbose_name=_("import key"),
    )
    search_config = models.CharField(
        max_length=20, default="simple", editable=False, verbose_name=_("search language")
    )

    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    published_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("published at")
    )
    # The yearly check (docs/library.md, "Contribution and moderation"): when the owners last
    # confirmed the record is current, and when they were last reminded to.
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True, editable=False)
    check_reminded_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("check reminder sent at")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("library record")
        verbose_name_plural = _("library records")
        ordering = ["-year", "title", "id"]
        indexes = [
            models.Index(fields=["status", "year"], name="library_record_status_year"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(year__isnull=True)
                | models.Q(year__gte=YEAR_MIN, year__lte=YEAR_MAX),
                name="library_record_year_range",
            ),
            models.CheckConstraint(
                condition=models.Q(type=ResourceType.TRAINING)
                | models.Q(training_duration="", training_format="", training_level=""),
                name="library_record_training_fields_only_for_training",
            ),
            models.CheckConstraint(
                condition=models.Q(is_ongoing=False) | models.Q(year__isnull=False),
                name="library_record_ongoing_has_year",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_published(self):
        return self.status == RecordStatus.PUBLISHED

    @property
    def author_list(self):
        return [line.strip() for line in self.authors.splitlines() if line.strip()]

    @property
    def language(self):
        """The language of the title and summary."""
        return self.languages[0] if self.languages else ""


class RecordVersion(models.Model):
    """One change of a record: who, when, which fields, and the record as it was afterwards.
    Written by the services with every change; never edited. The snapshot holds the private
    fields too, so versions are shown in full to editors only."""

    record = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="versions", verbose_name=_("record")
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("made at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    source = models.CharField(max_length=10, choices=VersionSource.choices, verbose_name=_("how"))
    comment = models.CharField(max_length=300, blank=True, verbose_name=_("comment"))
    changed_fields = models.JSONField(default=list, verbose_name=_("changed fields"))
    snapshot = models.JSONField(default=dict, verbose_name=_("snapshot"))

    class Meta:
        verbose_name = _("record version")
        verbose_name_plural = _("record versions")
        ordering = ["record", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="library_version_unique")
        ]

    def __str__(self):
        return f"{self.record_id} v{self.number}"


class RecordLink(models.Model):
    """`source` is `kind` `target` ("part of", "companion to"…); read backwards on the target."""

    source = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="links_out", verbose_name=_("record")
    )
    target = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="links_in", verbose_name=_("linked record")
    )
    kind = models.CharField(
        max_length=20, choices=LinkKind.choices, default=LinkKind.RELATED, verbose_name=_("link")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("link to another record")
        verbose_name_plural = _("links to other records")
        ordering = ["source", "kind", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="library_link_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="library_link_not_to_itself"
            ),
        ]

    def __str__(self):
        return f"{self.source_id} {self.get_kind_display()} {self.target_id}"


class RecordFacet(models.Model):
    """One (facet, value) of a record — type, language, country, topic, year… — so that facet
    counts and filters are plain indexed SQL on both databases. Derived from the record by the
    services; never edited on its own."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="facets")
    facet = models.CharField(max_length=20)
    value = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "facet", "value"], name="library_facet_unique"
            )
        ]
        indexes = [models.Index(fields=["facet", "value", "record"], name="library_facet_lookup")]

    def __str__(self):
        return f"{self.record_id} {self.facet}={self.value}"


class FileStatus(models.TextChoices):
    """Text extraction of an uploaded file, done by the task worker."""

    PENDING = "pending", _("Waiting for text extraction")
    EXTRACTED = "extracted", _("Text extracted")
    FAILED = "failed", _("Text extraction failed")


class RecordFile(models.Model):
    """A document attached to a record (a PDF or a text file). Library files are public once the
    record is published, so they are stored in plain form; the worker extracts their text for the
    search index within time and size limits and records why when it cannot."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to="library/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    mime = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=FileStatus.choices, default=FileStatus.PENDING)
    error = models.CharField(_("extraction problem"), max_length=300, blank=True)
    text = models.TextField(blank=True, editable=False)
    language = models.CharField(_("detected language"), max_length=8, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    extracted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["record", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class RecordEmbedding(models.Model):
    """A record's multilingual embedding (title, summary and extracted text), for cross-language
    search and "more like this". Float32 little-endian bytes; `model` names what produced it so a
    model change re-embeds."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="embedding")
    model = models.CharField(max_length=80)
    dimensions = models.PositiveSmallIntegerField()
    vector = models.BinaryField()
    text_sha256 = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.record_id} {self.model}"


class RecordTsvector(models.Model):
    """PostgreSQL's search document of a record (docs/library.md, "PostgreSQL: tsvector and
    GIN"), in a narrow table of its own: a search reads every match's row, and here a row is
    the vector alone, not the record's 30 other columns. Written by the services in the
    record's transaction; empty on SQLite, where the FTS5 table does this work."""

    record = models.OneToOneField(
        Record, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    search_vector = SearchVectorField(editable=False)

    def __str__(self):
        return str(self.record_id)


class ReviewAction(models.TextChoices):
    """One step of moderation (docs/library.md)."""

    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved and published")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")


class RecordReview(models.Model):
    """A step of a record's moderation — submitted, approved, changes requested, rejected —
    with the comment the submitter sees. The record's change itself is a RecordVersion."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="reviews")
    version = models.ForeignKey(
        RecordVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=ReviewAction.choices)
    comment = models.TextField(_("comment"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # False when the submitter could not be e-mailed (no place where their organisation is
    # listed): their page shows the outcome instead.
    notified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record", "-created_at", "-id"]
        indexes = [models.Index(fields=["record", "-created_at"], name="library_review_latest")]

    def __str__(self):
        return f"{self.record_id} {self.action}"


class SearchGeneration(models.Model):
    """One row: a random token replaced in the same transaction as any change to what search
    keeps in memory (published records, their facets, order and vectors). Each process compares
    it with the token of what it loaded — one primary-key read per search — and reloads when it
    differs. Random rather than a counter, so that a rolled-back change can never leave a process
    believing an old load is current."""

    token = models.CharField(max_length=32)

    def __str__(self):
        return self.token
