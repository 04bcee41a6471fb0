from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from citadel.documents.models import DocumentRun, RunDefinition, reviewed_run_statuses
from citadel.reading import values

MAX_FIELDS = 30

FieldType = models.TextChoices(
    "FieldType", [(kind.upper(), (kind, label)) for kind, label in values.VALUE_TYPES.items()]
)


class ExtractionSchema(RunDefinition):
    """The fields an admin wants read out of documents into a table."""

    NOUN = "schema"
    PART = "field"
    PARTS = "fields"
    PART_NEEDS = "a name and a type"
    # A field names a column of the table.
    PART_KEY = "name"
    UNIQUE_PART_KEY = True
    MAX_PARTS = MAX_FIELDS


class SchemaField(models.Model):
    schema = models.ForeignKey(ExtractionSchema, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(default=0)
    # The column's name in the table, the CSV and the JSON ("notice_period").
    name = models.CharField(
        max_length=60,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", "Lower-case letters, digits and underscores, from a letter.")],
    )
    type = models.CharField(max_length=12, choices=FieldType, default=FieldType.TEXT)
    choices = models.JSONField(default=list, blank=True)
    # What to look for ("termination notice period"); searched for with the name.
    guidance = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["schema", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["schema", "name"], name="schemafield_unique_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.guidance = " ".join(str(self.guidance or "").split())
        try:
            self.choices = values.clean_choices(self.type, self.choices)
        except ValueError as exc:
            raise ValidationError({"choices": str(exc)}) from None

    @property
    def query(self) -> str:
        """What is searched for and matched against sentences: the name in words, and the guidance."""
        return " ".join(part for part in (self.name.replace("_", " "), self.guidance) if part)


# A run's states, and an extraction's own: every value read, some waiting for a reviewer (low
# confidence, or not found), then ready.
ExtractionStatus = reviewed_run_statuses("ExtractionStatus", module=__name__, done="ready")


class Extraction(DocumentRun):
    """One run of a schema over documents, with the runner's permissions: a row per document."""

    schema = models.ForeignKey(ExtractionSchema, null=True, on_delete=models.SET_NULL, related_name="extractions")
    # The fields as they were when the run started: [{"name", "type", "choices", "guidance"}].
    fields = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=ExtractionStatus, default=ExtractionStatus.QUEUED, db_index=True)

    DEFINITION = "schema"

    class Meta(DocumentRun.Meta):
        pass

    def keep_parts(self, parts: list[SchemaField]) -> list:
        """The fields, kept on the extraction itself: its rows are written per document."""
        self.fields = [ExtractionSchema.part_data(field) for field in parts]
        return []


class ValueStatus(models.TextChoices):
    EXTRACTED = "extracted"  # read with confidence; no review needed
    NEEDS_REVIEW = "needs_review", "Needs review"  # low confidence, or not found
    CONFIRMED = "confirmed"  # a reviewer kept it (or confirmed it is not in the document)
    CORRECTED = "corrected"  # a reviewer replaced it


class ExtractionValue(models.Model):
    """One cell: a field of one document, with the sentence it was read from."""

    extraction = models.ForeignKey(Extraction, on_delete=models.CASCADE, related_name="values")
    document = models.ForeignKey("documents.Document", null=True, on_delete=models.SET_NULL, related_name="+")
    field_name = models.CharField(max_length=60)
    value = models.CharField(max_length=600, blank=True)
    confidence = models.FloatField(default=0)
    status = models.CharField(max_length=12, choices=ValueStatus)
    chunk = models.ForeignKey("documents.Chunk", null=True, on_delete=models.SET_NULL, related_name="+")
    version = models.ForeignKey("documents.DocumentVersion", null=True, on_delete=models.SET_NULL, related_name="+")
    quote = models.TextField(blank=True)
    quote_start = models.PositiveIntegerField(null=True)
    quote_end = models.PositiveIntegerField(null=True)
    # What the extractor read, kept when a reviewer corrects it.
    extracted_value = models.CharField(max_length=600, blank=True)
    # "extractive", or the provider and model whose value was found in the passage it cited.
    read_by = models.CharField(max_length=200, blank=True, default="extractive", db_default="extractive")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["extraction", "document_id", "field_name"]
        constraints = [
            models.UniqueConstraint(fields=["extraction", "document", "field_name"], name="extractionvalue_unique_cell")
        ]
