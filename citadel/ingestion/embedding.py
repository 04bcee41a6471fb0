"""Vectors for chunks: reused from unchanged chunks of other versions, or computed in batches by
the organization's embedding provider."""

from django.db import connection

from citadel.documents.models import Chunk, ChunkEmbedding, DocumentVersion, EmbeddingChangeStatus, EmbeddingModelChange
from citadel.ingestion.errors import IngestionError, TransientIngestionError
from citadel.ingestion.retries import is_transient
from citadel.providers.embeddings import get_embedder

EMBED_BATCH_SIZE = 64


def reuse_vectors(*, version: DocumentVersion, model: str) -> int:
    """Copy vectors of unchanged chunks (same content hash) from the document's other versions."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO documents_chunkembedding (chunk_id, version_id, organization_id, model, dimensions, embedding)
            SELECT DISTINCT ON (c.id) c.id, c.version_id, c.organization_id, e.model, e.dimensions, e.embedding
              FROM documents_chunk c
              JOIN documents_chunk p
                ON p.document_id = c.document_id AND p.version_id <> c.version_id AND p.content_hash = c.content_hash
              JOIN documents_chunkembedding e ON e.chunk_id = p.id AND e.model = %s
             WHERE c.version_id = %s
               AND NOT EXISTS (SELECT 1 FROM documents_chunkembedding x WHERE x.chunk_id = c.id AND x.model = %s)
             ORDER BY c.id, p.version_id DESC
            ON CONFLICT ON CONSTRAINT embedding_unique_chunk_model DO NOTHING
            """,
            [model, version.pk, model],
        )
        return cursor.rowcount


def serving_model_share_locked(*, organization_id: int) -> str:
    """The embedding model the organization serves, share-locked until the transaction ends: an
    embedding-model switch (FOR UPDATE) waits for the caller, and the caller reads the model the
    switch may have just made current."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT embedding_model FROM accounts_organization WHERE id = %s FOR SHARE", [organization_id])
        (model,) = cursor.fetchone()
    return model


def embed_texts(embedder, texts: list[str]) -> list[list[float]]:
    """Call the provider, turning its timeouts and connection errors into retryable errors."""
    try:
        vectors = embedder.embed(texts)
    except Exception as exc:
        if is_transient(exc):
            raise TransientIngestionError(
                f"The embedding service did not answer ({type(exc).__name__}). Citadel will retry automatically."
            ) from exc
        raise
    if len(vectors) != len(texts) or any(len(v) != embedder.dimensions for v in vectors):
        raise IngestionError(
            "The embedding service returned vectors of the wrong shape. Tell your administrator: the "
            "organization's embedding model setting may not match the service.",
            error_class="embedding_mismatch",
        )
    return vectors


# The header embedded above a chunk is cut to this many characters: the chunk's own words must keep
# their room in the model's window (the chunk budget leaves it about 50 tokens).
MAX_HEADER_CHARS = 200


def embedding_text(*, title: str, heading_path: list[str], text: str) -> str:
    """What is embedded for a chunk: its document's title and the headings above it, over its text,
    leaving out those the text's first lines already are. A passage deep in a document then says what it
    is about, as the document's first passage does (bench/retrieval_quality.py: dense nDCG@10 on
    Cranfield 0.395 -> 0.405 and on the demo set 0.982 -> 0.991, unchanged on SQuAD, whose
    paragraphs have no titles). Citations still quote the chunk's text alone."""
    # The passage's first lines, which may be its title and headings themselves.
    opening = [" ".join(line.split()) for line in text[: MAX_HEADER_CHARS + 50].splitlines() if line.strip()]
    header: list[str] = []
    for part in (title, *heading_path):
        part = " ".join(str(part).split())
        if not part or part in header:
            continue
        if opening and opening[0] == part:
            opening.pop(0)
            continue
        header.append(part)
    if not header:
        return text
    return "\n".join(header)[:MAX_HEADER_CHARS] + "\n" + text


def embed_missing(
    *, version_id: int, organization_id: int, model: str, on_batch=None, chunk_ids: list[int] | None = None
) -> int:
    """Embed the version's chunks that have no vector for `model`, in batches. Returns how many."""
    embedder = get_embedder(model)
    version = DocumentVersion.objects.select_related("document").only("metadata", "document__title").get(pk=version_id)
    metadata = version.metadata or {}
    # The document's own title, or the one its uploader gave; a file name ("p12.txt") says
    # nothing about the passage and only blurs its vector (SQuAD's paragraphs: dense nDCG@10
    # 0.827 -> 0.799 with their file names as titles).
    title = metadata.get("title") or ("" if metadata.get("title_from_filename") else version.document.title)
    missing = Chunk.objects.filter(version_id=version_id).exclude(embeddings__model=model).order_by("ordinal")
    if chunk_ids is not None:
        missing = missing.filter(pk__in=chunk_ids)
    rows = [
        (pk, embedding_text(title=title, heading_path=heading_path or [], text=text))
        for pk, text, heading_path in missing.values_list("pk", "text", "heading_path")
    ]
    done = 0
    for offset in range(0, len(rows), EMBED_BATCH_SIZE):
        batch = rows[offset : offset + EMBED_BATCH_SIZE]
        vectors = embed_texts(embedder, [text for _, text in batch])
        ChunkEmbedding.objects.bulk_create(
            [
                ChunkEmbedding(
                    chunk_id=chunk_id,
                    version_id=version_id,
                    organization_id=organization_id,
                    model=model,
                    dimensions=embedder.dimensions,
                    embedding=vector,
                )
                for (chunk_id, _), vector in zip(batch, vectors, strict=True)
            ],
            ignore_conflicts=True,
        )
        done += len(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return done


def models_to_embed(*, organization) -> list[str]:
    """The models a new version is embedded with: the serving one first."""
    models = [organization.embedding_model]
    change = open_embedding_change(organization_id=organization.pk)
    if change is not None and change.to_model not in models:
        # While the organization moves to another model, new versions get both vectors, so the
        # switch finds nothing missing.
        models.append(change.to_model)
    return models


def open_embedding_change(*, organization_id: int) -> EmbeddingModelChange | None:
    return EmbeddingModelChange.objects.filter(
        organization_id=organization_id, status__in=[EmbeddingChangeStatus.PENDING, EmbeddingChangeStatus.RUNNING]
    ).first()
