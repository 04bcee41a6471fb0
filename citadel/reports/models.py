from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from citadel.documents.models import DocumentRun, RunDefinition, reviewed_run_statuses
from citadel.reading import values

MAX_ITEMS = 60


ItemType = models.TextChoices("ItemType", [(kind.upper(), (kind, label)) for kind, label in values.VALUE_TYPES.items()])


class ReportTemplate(RunDefinition):
    """A checklist an admin defines once and members run over documents."""

    NOUN = "template"
    PART = "item"
    PARTS = "items"
    PART_NEEDS = "a question"
    PART_KEY = "question"
    MAX_PARTS = MAX_ITEMS


class TemplateItem(models.Model):
    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    question = models.CharField(max_length=1000)
    type = models.CharField(max_length=12, choices=ItemType, default=ItemType.TEXT)
    # The answers a "choice" item may take.
    choices = models.JSONField(default=list, blank=True)
    # What the reviewer should look for ("termination notice period"); also searched for.
    guidance = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["template", "position", "id"]

    def __str__(self) -> str:
        return self.question

    def clean(self) -> None:
        self.question = " ".join(str(self.question or "").split())
        self.guidance = " ".join(str(self.guidance or "").split())
        if len(self.question) < 3:
            raise ValidationError({"question": "Each item needs a question."})
        try:
            self.choices = values.clean_choices(self.type, self.choices)
        except ValueError as exc:
            raise ValidationError({"choices": str(exc)}) from None


# A run's states, and a report's own: in review until its last item is decided, then published.
ReportStatus = reviewed_run_statuses("ReportStatus", module=__name__, done="published")


class ItemStatus(models.TextChoices):
    QUEUED = "queued"
    ANSWERED = "answered"
    NOT_FOUND = "not_found", "Not found in the documents"
    PENDING_REVIEW = "pending_review", "Pending review"
    APPROVED = "approved"
    REJECTED = "rejected"
    FAILED = "failed"


DECIDED_ITEM_STATUSES = (ItemStatus.APPROVED, ItemStatus.REJECTED)


class Report(DocumentRun):
    """One run of a template over a set of documents, with the runner's permissions. Its items are
    questions answered through the answer path and decided in the review queue; it is published
    when the last one is decided."""

    template = models.ForeignKey(ReportTemplate, null=True, on_delete=models.SET_NULL, related_name="reports")
    status = models.CharField(max_length=12, choices=ReportStatus, default=ReportStatus.QUEUED, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Who made the decision that completed the review.
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Written once, when published: what was searched, what was found, who decided each item.
    receipt = models.JSONField(null=True, blank=True)

    DEFINITION = "template"
    # Members read the reports others ran once they are published.
    SHARED_STATUS = ReportStatus.PUBLISHED

    class Meta(DocumentRun.Meta):
        pass

    def keep_parts(self, parts: list[TemplateItem]) -> list["ReportItem"]:
        """Each item as a row of the report, numbered; its answer is written there."""
        return [
            ReportItem(report=self, n=n, question_text=i.question, type=i.type, choices=i.choices, guidance=i.guidance)
            for n, i in enumerate(parts, start=1)
        ]


class ReportItem(models.Model):
    """An item of a report: the template's item as it was when the run started, and its answer."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="items")
    n = models.PositiveSmallIntegerField()
    question_text = models.CharField(max_length=1000)
    type = models.CharField(max_length=12, choices=ItemType)
    choices = models.JSONField(default=list, blank=True)
    guidance = models.CharField(max_length=1000, blank=True)
    question = models.OneToOneField(
        "answers.Question", null=True, blank=True, on_delete=models.SET_NULL, related_name="report_item"
    )
    status = models.CharField(max_length=16, choices=ItemStatus, default=ItemStatus.QUEUED)
    # The typed value read from the cited quotes (or from the text a reviewer approved); empty
    # when none was found.
    value = models.CharField(max_length=600, blank=True)

    class Meta:
        ordering = ["report", "n"]
        constraints = [models.UniqueConstraint(fields=["report", "n"], name="reportitem_unique_n")]

    def __str__(self) -> str:
        return f"{self.n}. {self.question_text}"
