from django.conf import settings
from django.db import models

from citadel.audit.models import PromptLogMode
from citadel.core.principal import Role


class ReviewPolicy(models.TextChoices):
    ALL = "all", "Every answer needs approval"
    FLAGGED = "flagged", "Only flagged answers need approval"
    NONE = "none", "No review"


class SummaryMode(models.TextChoices):
    ON = "on", "Summarise every version when it is ready"
    ON_DEMAND = "on_demand", "Summarise when someone asks"
    OFF = "off", "Never summarise"


class Organization(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    # Provider choice, set by the organization's admins. Keys never live here: they come from
    # the environment (see citadel.providers).
    generation_provider = models.CharField(max_length=40, default="extractive")
    generation_model = models.CharField(max_length=200, blank=True)
    embedding_model = models.CharField(max_length=200, default="all-MiniLM-L6-v2")
    # Retrieval knobs (k, fusion weights, chunk size, overlap); changed only through the
    # evaluation gate.
    retrieval_settings = models.JSONField(default=dict, blank=True)

    review_policy = models.CharField(max_length=10, choices=ReviewPolicy, default=ReviewPolicy.FLAGGED)
    watch_words = models.JSONField(default=list, blank=True)
    summary_mode = models.CharField(max_length=10, choices=SummaryMode, default=SummaryMode.ON, db_default="on")

    prompt_log_mode = models.CharField(max_length=10, choices=PromptLogMode, default=PromptLogMode.REDACTED)
    prompt_log_retention_days = models.PositiveIntegerField(default=30)
    # Days a superseded version keeps its chunks, vectors and lexical entries (for a rollback or a
    # look at what changed) before the cleanup deletes them; the version row and its text stay.
    version_retention_days = models.PositiveIntegerField(default=30, db_default=30)

    monthly_budget_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name_per_org")]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.name}"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=[(r.value, r.value) for r in Role], default=Role.MEMBER)
    teams = models.ManyToManyField(Team, blank=True, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__slug", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org"),
            models.CheckConstraint(condition=models.Q(role__in=[r.value for r in Role]), name="membership_valid_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class BreakGlassAccess(models.Model):
    """A superuser's time-limited permission to read an organization's restricted content (a
    customer complaint, a legal hold), opened with a stated reason. Opening it is an audit event in
    that organization's chain and its admins are told; while it lasts, content under grants (see
    citadel.documents.access.content_view) is readable to that user in that organization."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "organization", "expires_at"])]
