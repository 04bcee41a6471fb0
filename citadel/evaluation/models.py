from django.conf import settings
from django.db import models


class EvalSet(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="evalset_unique_name")]

    def __str__(self) -> str:
        return self.name


class GoldenQuestion(models.Model):
    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="questions")
    question = models.TextField()
    expected_external_ids = models.JSONField(default=list)
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=10, default="manual")  # manual | review | import
    from_answer = models.ForeignKey(
        "answers.Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class EvalRun(models.Model):
    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="runs")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, default="retrieval")  # retrieval | answer
    settings = models.JSONField(default=dict)
    status = models.CharField(max_length=10, default="queued")  # queued | running | done | failed
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)


class EvalResult(models.Model):
    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    golden_question = models.ForeignKey(GoldenQuestion, on_delete=models.CASCADE, related_name="+")
    retrieved_external_ids = models.JSONField(default=list)
    metrics = models.JSONField(default=dict)
    classification = models.CharField(max_length=20, blank=True)  # retrieval_miss | generation_miss | correct
