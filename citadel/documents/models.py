from datetime import date

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import validate_slug
from django.db import models
from django.utils import timezone
from pgvector.django import HalfVectorField

from citadel.jobs.models import Run, RunStatus


class VersionStatus(models.TextChoices):
    UPLOADED = "uploaded"
    SCANNING = "scanning"
    PARSING = "parsing"
    CHUNKING = "chunking"
    EMBEDDING = "embedding"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    ARCHIVED = "archived"


class ReviewDateSource(models.TextChoices):
    """Where a document's review-by date came from. A date a person set is never replaced by one
    found in the text or given by a source's rules; one found in the text outranks a source's."""

    PERSON = "person"
    TEXT = "text"
    SOURCE = "source"


# Who may replace a review-by date: a setter replaces dates of its rank and below.
REVIEW_DATE_RANK = {ReviewDateSource.SOURCE: 1, ReviewDateSource.TEXT: 2, ReviewDateSource.PERSON: 3}


IN_PROGRESS_STATUSES = [
    VersionStatus.UPLOADED,
    VersionStatus.SCANNING,
    VersionStatus.PARSING,
    VersionStatus.CHUNKING,
    VersionStatus.EMBEDDING,
    VersionStatus.INDEXING,
]


class Document(models.Model):
    """A logical document of one organization, identified by its external id. Its content lives
    in versions; `current_version` is the one retrieval serves, switched atomically when a newer
    version becomes ready."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="documents")
    external_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500)
    # A title its owner or an admin chose: a new version's parsed title does not replace it.
    title_set_by_person = models.BooleanField(default=False)
    current_version = models.OneToOneField(
        "DocumentVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sensitive = models.BooleanField(default=False, help_text="Answers citing it are flagged for review.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # An email's attachment is a document of its own, with the email's access, under its email.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    attachment_number = models.PositiveIntegerField(null=True, blank=True)
    # Who keeps it up to date: a member or a team, never both; told when its review comes due.
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    review_by = models.DateField(null=True, blank=True)
    review_by_source = models.CharField(max_length=6, choices=ReviewDateSource, blank=True, default="")

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="document_unique_external_id"),
            models.CheckConstraint(
                condition=models.Q(owner_user__isnull=True) | models.Q(owner_team__isnull=True),
                name="document_one_owner",
            ),
        ]
        indexes = [
            # The daily digest and the console read the documents coming due, a few of many.
            models.Index(fields=["review_by"], name="document_review_by", condition=models.Q(review_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def owner_name(self) -> str:
        if self.owner_user_id:
            return self.owner_user.get_username()
        return self.owner_team.name if self.owner_team_id else ""

    @property
    def review_due(self) -> date | None:
        """The review-by date once it has passed (the day itself is not yet overdue), else None."""
        return review_due(self.review_by)


def review_due(review_by: date | None, *, today: date | None = None) -> date | None:
    if review_by is None or review_by >= (today or timezone.localdate()):
        return None
    return review_by


class GrantScope(models.TextChoices):
    ORGANIZATION = "organization"
    TEAM = "team"
    USER = "user"


class AccessGrant(models.Model):
    """Who may read a document: the whole organization, a team, or one user. A document without
    grants is readable by nobody (nothing is public by default)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="grants")
    scope = models.CharField(max_length=12, choices=GrantScope)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="organization", team__isnull=True, user__isnull=True)
                    | models.Q(scope="team", team__isnull=False, user__isnull=True)
                    | models.Q(scope="user", team__isnull=True, user__isnull=False)
                ),
                name="grant_scope_matches_subject",
            ),
            models.UniqueConstraint(
                fields=["document"], condition=models.Q(scope="organization"), name="grant_unique_org"
            ),
            models.UniqueConstraint(fields=["document", "team"], name="grant_unique_team"),
            models.UniqueConstraint(fields=["document", "user"], name="grant_unique_user"),
        ]
        indexes = [models.Index(fields=["team"]), models.Index(fields=["user"])]


def version_upload_to(instance: "DocumentVersion", filename: str) -> str:
    # The stored name never uses the uploader's file name: it is the content hash.
    return f"originals/{instance.document.organization_id}/{instance.sha256[:2]}/{instance.sha256}"


def version_page_images_dir(*, organization_id: int, version_id: int) -> str:
    """Where the pages of a version drawn for citations are kept (citadel.ingestion.page_images):
    under the version's id, whose file never changes; removed with the version's file
    (citadel.documents.services.document_delete)."""
    return f"page-images/{organization_id}/{version_id}"


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=version_upload_to, max_length=300)
    original_filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, blank=True, help_text="Detected from the content.")

    status = models.CharField(max_length=12, choices=VersionStatus, default=VersionStatus.UPLOADED, db_index=True)
    error_class = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Set while a worker holds the version; a reaper fails or re-queues versions whose lease ran out.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)

    text = models.TextField(blank=True, help_text="Extracted text; chunk offsets point into it.")
    metadata = models.JSONField(default=dict, blank=True)  # page count, parser, hidden-text findings ...
    # An attachment's version: the uploaded version (the top email) whose ingestion made it. Every
    # version one upload makes counts against that upload's limit (CITADEL_MAX_PARTS_PER_UPLOAD).
    upload = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="parts")
    # An email's attachments that did not become documents (the upload's limit), and what the
    # uploader is told: on the email that lost them, and on the upload for its whole tree.
    attachments_left_out = models.PositiveIntegerField(default=0)
    notice = models.TextField(blank=True, help_text="What was left out of this version, said to the uploader.")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"


class Chunk(models.Model):
    """A passage of one version. Retrievable only while its version is its document's current
    version and the document is not archived (the rule lives in documents/access.py)."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="chunks")
    # Denormalised from the version so the ranking query filters without extra joins.
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True)
    # Where the passage is, said as a reader finds it: "page 3", "Sheet1 rows 20-35" (chunking).
    locator = models.CharField(max_length=300, blank=True, default="", db_default="")
    heading_path = models.JSONField(default=list, blank=True)
    # Tesseract's mean word confidence (0-100) when the passage's page was read by OCR; else null.
    ocr_confidence = models.FloatField(null=True, blank=True)
    char_start = models.PositiveIntegerField()
    char_end = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    token_count = models.PositiveIntegerField()
    # Lexical leg: English stemmed lexemes and their count (the BM25 document length).
    search_vector = SearchVectorField(null=True)
    lexeme_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["version", "ordinal"], name="chunk_unique_ordinal"),
        ]
        indexes = [
            # No pending list: with it, every lexical search scans the entries inserted since
            # the last vacuum, and during a bulk upload that list grows to megabytes (a GIN scan
            # of 2 ms took 16 ms). Inserts pay instead, in the (niced) ingestion worker.
            GinIndex(fields=["search_vector"], name="chunk_search_vector_gin", fastupdate=False),
            models.Index(fields=["version", "content_hash"], name="chunk_version_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.version} #{self.ordinal}"

    @property
    def misread_risk(self) -> bool:
        return misread_risk(self.ocr_confidence)


# Below this mean word confidence a page read by OCR is flagged on the passages quoting it.
LOW_OCR_CONFIDENCE = 70.0


def misread_risk(ocr_confidence: float | None) -> bool:
    """Read by OCR with low confidence: a quote from it may not say what the page says."""
    return ocr_confidence is not None and ocr_confidence < LOW_OCR_CONFIDENCE


class ReadMethod(models.TextChoices):
    TEXT_LAYER = "text", "Text layer"
    OCR = "ocr", "OCR"


class VersionPage(models.Model):
    """How one page of a PDF or image was read, and for OCR the words' boxes (fractions of the
    page), which highlight a quote on the rendered page."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()
    method = models.CharField(max_length=8, choices=ReadMethod)
    ocr_confidence = models.FloatField(null=True, blank=True)
    words = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["version", "number"]
        constraints = [models.UniqueConstraint(fields=["version", "number"], name="version_page_unique_number")]

    def __str__(self) -> str:
        return f"{self.version} page {self.number}"

    @property
    def misread_risk(self) -> bool:
        return misread_risk(self.ocr_confidence)


class ChunkEmbedding(models.Model):
    """A chunk's vector under one embedding model. Rows for a new model are built beside the old
    ones; the organization's `embedding_model` says which set serves. Vectors are stored in half
    precision (pgvector's halfvec: half the table and index, the same recall at 1M chunks, see
    bench/retrieval_filtered.py) without a fixed dimension; HNSW indexes are partial expression
    indexes per dimension."""

    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="embeddings")
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=200)
    dimensions = models.PositiveSmallIntegerField()
    embedding = HalfVectorField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chunk", "model"], name="embedding_unique_chunk_model"),
        ]
        indexes = [models.Index(fields=["version", "model"], name="embedding_version_model")]


class EmbeddingChangeStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class EmbeddingModelChange(models.Model):
    """An organization moving to another embedding model. While it is pending or running, the
    organization's chunks are stale: vectors for `to_model` are built beside the old ones, which
    keep serving until the change switches `Organization.embedding_model` in one transaction."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="embedding_changes"
    )
    from_model = models.CharField(max_length=200)
    to_model = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=EmbeddingChangeStatus, default=EmbeddingChangeStatus.PENDING)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status__in=["pending", "running"]),
                name="embedding_change_one_open_per_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.from_model} -> {self.to_model} ({self.status})"


class Label(models.Model):
    """A label an admin defines ("Finance"): documents get it in the background, by similarity to
    its description and to the documents people gave it (citadel.classification)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=60)
    description = models.TextField(help_text="What documents with this label are about; the classifier reads it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="label_unique_name")]

    def __str__(self) -> str:
        return self.name


class LabelStatus(models.TextChoices):
    ASSIGNED = "assigned"  # by the classifier, confident
    SUGGESTED = "suggested"  # by the classifier, not confident: waits for a reviewer
    ACCEPTED = "accepted"  # by a person: added, or a suggestion confirmed
    REJECTED = "rejected"  # by a person: never given again by the classifier


# The labels a document has: they filter search, asking, reports and extractions.
LABEL_APPLIES = (LabelStatus.ASSIGNED, LabelStatus.ACCEPTED)


class DocumentLabel(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="document_labels")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="document_labels")
    status = models.CharField(max_length=10, choices=LabelStatus)
    # The classifier's score (cosine similarity), kept when a person decides.
    confidence = models.FloatField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label__name"]
        constraints = [models.UniqueConstraint(fields=["document", "label"], name="documentlabel_unique")]
        indexes = [models.Index(fields=["label", "status"], name="documentlabel_label_status")]

    def __str__(self) -> str:
        return f"{self.label} on {self.document_id} ({self.status})"


def reviewed_run_statuses(name: str, *, module: str, done: str) -> type[models.TextChoices]:
    """The states of a kind of run over documents whose results a reviewer checks (a report, an
    extraction): a run's (RunStatus), "needs_review" while a reviewer has something to decide, and
    `done` once nothing waits ("published"). In this order: the order of the status field's
    choices in the migrations. `module`: the kind's models' module, where the class is named."""
    return models.TextChoices(
        name,
        [
            ("QUEUED", RunStatus.QUEUED.value),
            ("RUNNING", RunStatus.RUNNING.value),
            ("NEEDS_REVIEW", ("needs_review", "Needs review")),
            (done.upper(), done),
            ("FAILED", RunStatus.FAILED.value),
            ("CANCELLED", RunStatus.CANCELLED.value),
        ],
        module=module,
    )


class RunDefinition(models.Model):
    """What a kind of run over documents runs, defined once by an admin and run by members (a
    checklist, an extraction schema): a slug unique in its organization, a title, and ordered parts
    in the kind's own model, which has a foreign key to it (related name PARTS), a `position`, a
    `type`, `choices` and `guidance`, and its own PART_KEY. Every kind is saved, checked, shown and
    run the same way (citadel.documents.runs); what differs is named here, for its messages."""

    # Each kind's words: "template" with its "item"/"items", each needing "a question".
    NOUN = ""
    PART = ""
    PARTS = ""
    PART_NEEDS = ""
    # The field that says what a part is ("question"); unique among the parts when it names a
    # column (an extraction's fields).
    PART_KEY = ""
    UNIQUE_PART_KEY = False
    MAX_PARTS = 0

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    slug = models.CharField(max_length=80, validators=[validate_slug])
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["title"]
        # Named after each kind's model, as when each declared its own: "reporttemplate_unique_slug".
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="%(class)s_unique_slug")]

    def __str__(self) -> str:
        return self.title

    def parts(self) -> models.QuerySet:
        return getattr(self, self.PARTS).all()

    @classmethod
    def part_data(cls, part: models.Model) -> dict:
        """A part as the admin's audit, the commands, the API and an extraction's copy give it."""
        key = cls.PART_KEY
        return {key: getattr(part, key), "type": part.type, "choices": part.choices, "guidance": part.guidance}


class DocumentRun(Run):
    """A background job a member runs over a fixed set of documents with their own permissions (a
    checklist's report, an extraction): its runner and its documents. Its life (queued, claimed by
    a worker that extends its lease, finished, failed, cancelled, retried) is citadel.jobs'."""

    OWNER_FIELD = "runner"
    ORGANIZATION_LOOKUP = "organization_id"
    # Each kind's foreign key to the RunDefinition it runs ("template"), and the state in which
    # members see the runs others started (a published report), if there is one.
    DEFINITION = ""
    SHARED_STATUS: str | None = None

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    runner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The documents, fixed when the run starts, and how they were chosen ("2 documents",
    # "documents of team Support").
    document_ids = models.JSONField(default=list)
    scope_label = models.CharField(max_length=300)

    class Meta(Run.Meta):
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.created_at:%Y-%m-%d})"

    def keep_parts(self, parts: list) -> list[models.Model]:
        """The definition's parts as this run keeps them, so that changing the definition later
        changes no run made: set on the run before it is first saved, or returned as rows saved
        with it (citadel.documents.runs.document_run_start). Every kind defines it: a kind that
        does not cannot start a run."""
        raise NotImplementedError(f"{type(self).__name__} does not say how it keeps its definition's parts.")
