"""Per-organization BM25 statistics over the organization's retrievable chunks (current version of
a document that is not archived). PostgreSQL triggers on documents_document and documents_chunk
keep them exact inside the transaction that changes what is live (migration 0002), so ingestion,
archiving and deletion need no Python call, and one tenant's documents never move another's
scores. Rows whose organization is deleted are removed by a trigger too."""

from django.db import models
from pgvector.django import VectorField


class LexicalCorpus(models.Model):
    """N (retrievable chunks) and the summed lexeme count (for the average chunk length)."""

    organization = models.OneToOneField(
        "accounts.Organization",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    chunk_count = models.BigIntegerField(default=0)
    total_length = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"corpus of org {self.organization_id}: {self.chunk_count} chunks"


class LexicalTerm(models.Model):
    """Document frequency of one lexeme: how many retrievable chunks of the organization hold it.

    `max_tf` and `min_length` bound what the lexeme can add to a chunk's BM25 score (its highest
    count in a chunk, the shortest chunk holding it). They only ever widen: a chunk that stops
    being retrievable leaves them as they are, which keeps them true bounds. The lexical leg
    uses them to skip chunks that cannot reach the top (retrieval.services). NULL: not known."""

    pk = models.CompositePrimaryKey("organization", "lexeme")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    lexeme = models.TextField()
    df = models.BigIntegerField(default=0)
    max_tf = models.IntegerField(null=True)
    min_length = models.IntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.lexeme}: {self.df}"


class VersionCentroid(models.Model):
    """The mean of a version's chunk vectors under one embedding model: a coarse index whose rows
    are documents. Under a restrictive permission filter the dense leg scans the chunks of the
    permitted documents nearest the query exactly, beside the graph walk (retrieval.services).
    Kept exact by statement triggers on documents_chunkembedding (migration 0003), so every way
    vectors are written, bulk COPY included, updates it in the same transaction."""

    version = models.ForeignKey("documents.DocumentVersion", on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=200)
    dimensions = models.PositiveSmallIntegerField()
    chunks = models.PositiveIntegerField()
    embedding = VectorField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "model"], name="centroid_unique_version_model")]

    def __str__(self) -> str:
        return f"centroid of version {self.version_id} ({self.model}, {self.chunks} chunks)"
