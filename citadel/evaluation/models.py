from django.conf import settings
from django.db import models

from citadel.jobs.models import Run
from citadel.jobs.models import RunStatus as JobStatus


class EvalSet(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="evalset_unique_name")]

    def __str__(self) -> str:
        return self.name


class GoldenSource(models.TextChoices):
    MANUAL = "manual"
    REVIEW = "review"
    IMPORT = "import"


class GoldenQuestion(models.Model):
    """A question with the sources a good retrieval must find.

    Judged per document (`expected_external_ids`) unless `expected_passages` is set: then a
    retrieved passage counts when its text contains one of those snippets. With `earlier_turns`
    it is a follow-up: those questions are asked first in one thread, and it is scored as the
    turn that follows them."""

    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="questions")
    question = models.TextField()
    expected_external_ids = models.JSONField(default=list)
    expected_passages = models.JSONField(default=list, blank=True)
    # The questions asked before it in the same thread, oldest first.
    earlier_turns = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=GoldenSource, default=GoldenSource.MANUAL)
    from_answer = models.ForeignKey(
        "answers.Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["eval_set", "id"]

    def __str__(self) -> str:
        return self.question[:80]


class RunKind(models.TextChoices):
    RETRIEVAL = "retrieval", "Retrieval"
    ANSWER = "answer", "Answer"


class RunStatus(models.TextChoices):
    # A run's states (citadel.jobs.models.RunStatus), and the one an evaluation run finishes in.
    QUEUED = JobStatus.QUEUED.value
    RUNNING = JobStatus.RUNNING.value
    DONE = "done"
    FAILED = JobStatus.FAILED.value
    CANCELLED = JobStatus.CANCELLED.value


FINISHED_STATUSES = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)


class EvalRun(Run):
    """A run of a golden set: a run (citadel.jobs). The task claims it and moves its lease on with
    each question it answers; a run whose worker was lost is queued again by the reaper and starts
    again from its first question; a cancelled one stops before its next question. `done` of
    `total`: the questions answered."""

    OWNER_FIELD = "started_by"
    ORGANIZATION_LOOKUP = "organization_id"

    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="runs")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    # Runs retrieve as this user, so they measure what an admin of the organization may see.
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, choices=RunKind, default=RunKind.RETRIEVAL)
    k = models.PositiveSmallIntegerField(default=10)
    # The full retrieval settings the run was asked to measure (normalised, see services).
    settings = models.JSONField(default=dict)
    # False when retrieve() could not take a settings override, so the run measured the
    # organization's current settings whatever `settings` says.
    settings_applied = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=RunStatus, default=RunStatus.QUEUED)
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"], name="evalrun_org_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in RunStatus]), name="evalrun_valid_status"
            ),
            models.CheckConstraint(condition=models.Q(done__lte=models.F("total")), name="evalrun_done_le_total"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.kind}, {self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def progress_percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.finished else 0)


class Classification(models.TextChoices):
    RETRIEVAL_MISS = "retrieval_miss", "Retrieval miss"
    GENERATION_MISS = "generation_miss", "Generation miss"
    CORRECT = "correct", "Correct"


class EvalResult(models.Model):
    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    golden_question = models.ForeignKey(GoldenQuestion, on_delete=models.CASCADE, related_name="+")
    # Copied so a run reads the same after its golden question is edited.
    question = models.TextField(blank=True)
    earlier_turns = models.JSONField(default=list, blank=True)
    # What was searched for a follow-up (its standalone form); "" when the question was searched as asked.
    searched_as = models.TextField(blank=True)
    expected_external_ids = models.JSONField(default=list)
    retrieved_external_ids = models.JSONField(default=list)
    cited_external_ids = models.JSONField(default=list, blank=True)
    answer = models.ForeignKey("answers.Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answer_status = models.CharField(max_length=24, blank=True)
    abstained = models.BooleanField(default=False)
    metrics = models.JSONField(default=dict)
    classification = models.CharField(max_length=20, blank=True)  # retrieval_miss | generation_miss | correct

    class Meta:
        ordering = ["run", "golden_question_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "golden_question"], name="evalresult_unique_question"),
        ]
