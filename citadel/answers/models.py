from django.conf import settings
from django.db import models


class AnswerStatus(models.TextChoices):
    ANSWERED = "answered"
    # Answered in part: the quoted sources say some of what was asked, and the answer names what
    # they do not say (Answer.uncovered).
    PARTIAL = "partial"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    PENDING_REVIEW = "pending_review"
    FAILED = "failed"
    REJECTED = "rejected"
    # The asker stopped a streaming answer; not a failure of Citadel or of the provider.
    CANCELLED = "cancelled"


# Statuses after which an answer never changes again except through review.
FINAL_STATUSES = frozenset(AnswerStatus) - {AnswerStatus.PENDING_REVIEW}


class ReviewOutcome(models.TextChoices):
    """Where human review stands for an answer, beside what the answer is (its status): a script
    can tell "not enough evidence" from "a reviewer is checking it". Written by the services that
    open and decide review items, in their transactions."""

    NONE = "none"  # never sent to review
    PENDING = "pending"  # a review item is open (first review, or a re-check after feedback)
    APPROVED = "approved"
    REJECTED = "rejected"


class QuestionOrigin(models.TextChoices):
    ASK = "ask", "Asked by a member"
    # An item of a report: always reviewed, searched only in the report's documents, and not in
    # the asker's question history.
    REPORT = "report", "Report item"
    # A golden question an evaluation run asks as its admin: never reviewed, not in the admin's
    # history, and its model calls logged as the "evaluation" feature, not as anyone's asking.
    EVALUATION = "evaluation", "Evaluation run"


class Thread(models.Model):
    """A conversation: one asker's questions that follow each other. Only its asker adds to it or
    reads it; each turn is a Question with its own answer, receipt, review and audit events."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    asker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The scope its turns are asked within (retrieve()'s filters), kept until the asker clears it.
    scope = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["asker", "organization", "-updated_at"], name="thread_recent")]

    def __str__(self) -> str:
        return f"Thread {self.pk} of {self.asker_id}"


class Question(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="questions")
    asker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questions")
    text = models.TextField()
    origin = models.CharField(max_length=12, choices=QuestionOrigin, default=QuestionOrigin.ASK, db_default="ask")
    # What retrieval is narrowed to, as retrieve()'s filters ({"document_ids": [...]}); empty:
    # everything the asker may read.
    scope = models.JSONField(default=dict, blank=True, db_default={})
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="turns")
    # The standalone question that was searched, when a follow-up was rewritten from its thread
    # ("and abroad?" -> "What is the daily meal allowance when travelling abroad?"); empty: the
    # text as asked. `drew_on` is the earlier turn the rewrite took its words from.
    searched_as = models.TextField(blank=True, default="", db_default="")
    drew_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.text[:80]


class Answer(models.Model):
    question = models.OneToOneField(Question, on_delete=models.CASCADE, related_name="answer")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=24, choices=AnswerStatus, db_index=True)
    # What the asker sees once published (a reviewer may have edited it) and what the model said.
    text = models.TextField(blank=True)
    original_text = models.TextField(blank=True)
    notice = models.TextField(blank=True, help_text="Shown beside the answer, e.g. provider unavailable.")
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=200, blank=True)
    flags = models.JSONField(default=list, blank=True)  # ["unsupported_sentences", "low_scores", ...]
    # A database default too, so workers still running the code before it can write answers
    # during a rolling deploy.
    review_state = models.CharField(
        max_length=10, choices=ReviewOutcome, default=ReviewOutcome.NONE, db_default=ReviewOutcome.NONE
    )
    unsupported_sentences = models.JSONField(default=list, blank=True)
    # Phrases of the question that no cited source covers ("ancient languages"), as the question
    # words them; non-empty on a partial answer.
    uncovered = models.JSONField(default=list, blank=True, db_default=[])
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finalized_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Answer {self.pk} ({self.status})"

    @property
    def abstained(self) -> bool:
        """The answerer found too little evidence, whatever review later made of it."""
        return self.status == AnswerStatus.INSUFFICIENT_EVIDENCE or "abstained" in (self.flags or [])

    @property
    def outcome(self) -> str:
        """The status scripts are told (`ask --json`, the API): an abstention is
        insufficient_evidence in every review state; pending_review and rejected are answers
        whose text a reviewer holds back."""
        return AnswerStatus.INSUFFICIENT_EVIDENCE if self.abstained else self.status

    @property
    def partial(self) -> bool:
        """The answerer found some of what was asked and named what the sources do not say."""
        return not self.abstained and bool(self.uncovered)

    @property
    def published_status(self) -> str:
        """The status an answer takes when it is shown: after review, or at once."""
        if self.abstained:
            return AnswerStatus.INSUFFICIENT_EVIDENCE
        return AnswerStatus.PARTIAL if self.partial else AnswerStatus.ANSWERED


class RetrievedPassageQuerySet(models.QuerySet):
    def with_sources(self) -> "RetrievedPassageQuerySet":
        """With each passage's chunk, document and version for display, but not the version's
        whole extracted text, its metadata or the chunk's lexemes: a card citing eight passages
        of long documents would otherwise read megabytes it never shows."""
        return self.select_related("chunk", "document", "version").defer(
            "version__text", "version__metadata", "chunk__search_vector"
        )


class RetrievedPassage(models.Model):
    """A passage retrieval handed to the generator for this answer, numbered as in the prompt."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="passages")
    n = models.PositiveSmallIntegerField()
    chunk = models.ForeignKey("documents.Chunk", null=True, on_delete=models.SET_NULL, related_name="+")
    document = models.ForeignKey("documents.Document", null=True, on_delete=models.SET_NULL, related_name="+")
    version = models.ForeignKey("documents.DocumentVersion", null=True, on_delete=models.SET_NULL, related_name="+")
    score = models.FloatField()
    dense_rank = models.PositiveIntegerField(null=True)
    lexical_rank = models.PositiveIntegerField(null=True)
    suspicious = models.BooleanField(default=False, help_text="Looks like instructions to a model.")

    objects = RetrievedPassageQuerySet.as_manager()

    class Meta:
        ordering = ["answer", "n"]
        constraints = [models.UniqueConstraint(fields=["answer", "n"], name="passage_unique_n")]


class Citation(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="citations")
    n = models.PositiveSmallIntegerField()
    passage = models.ForeignKey(RetrievedPassage, on_delete=models.CASCADE, related_name="citations")
    quote = models.TextField()
    quote_start = models.PositiveIntegerField(help_text="Offset of the quote inside the chunk text.")
    quote_end = models.PositiveIntegerField()

    class Meta:
        ordering = ["answer", "n"]


class ReceiptImmutable(Exception):
    pass


class Receipt(models.Model):
    """Immutable snapshot of why the answer is what it is, written once when it is final.

    Never updated: save() refuses an existing row and the database refuses UPDATE (migration
    0002's trigger). What changed since (a new version, an archive, lost access) is computed live
    by citadel.answers.selectors.source_changes, never written back."""

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="receipt")
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ReceiptImmutable("A receipt is written once and never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)


class FeedbackReason(models.TextChoices):
    WRONG = "wrong", "Wrong or misleading"
    INCOMPLETE = "incomplete", "Incomplete"
    WRONG_SOURCE = "wrong_source", "Cites the wrong source"
    OUTDATED = "outdated", "Outdated"
    OTHER = "other", "Other"


class Feedback(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    reason = models.CharField(max_length=20, choices=FeedbackReason, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
