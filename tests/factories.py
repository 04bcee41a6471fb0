"""Test data factories shared by every app's tests.

    doc = make_document(org, "handbook", ["Refunds take 14 days.", "Shipping is free."])
    doc = make_document(org, "payroll", ["..."], grants=[team])          # team-only
    doc = make_document(org, "memo", ["..."], grants=[user])             # one user only
    doc = make_document(org, "draft", ["..."], grants=[])                # nobody may read it
    make_version(doc, ["new text"])                                      # v2 goes live, v1 superseded

Each text becomes one chunk (page = its position, 1-based) of a ready version, with an embedding
from get_embedder(org.embedding_model) stored under the organization's `embedding_model` name,
lexical fields filled by chunks_lexical_update, and the version set as current last, exactly as
ingestion does. No files are written.
"""

import hashlib
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from citadel.accounts.models import Organization, Team
from citadel.audit.models import PromptLog
from citadel.documents.lexical import chunks_lexical_update
from citadel.documents.models import (
    AccessGrant,
    Chunk,
    ChunkEmbedding,
    Document,
    DocumentVersion,
    GrantScope,
    VersionStatus,
)
from citadel.providers.embeddings import get_embedder

ORGANIZATION = "organization"


def make_document(
    org: Organization,
    external_id: str,
    texts: list[str],
    grants=(ORGANIZATION,),
    user=None,
    *,
    title: str | None = None,
    headings: list[list[str]] | None = None,
) -> Document:
    """A live document. `grants` holds "organization", Team and User objects; `user` is the
    uploader (created_by)."""
    with transaction.atomic():
        document = Document.objects.create(
            organization=org,
            external_id=external_id,
            title=title or external_id.replace("-", " ").title(),
            created_by=user,
        )
        User = get_user_model()
        for grant in grants:
            if grant == ORGANIZATION:
                AccessGrant.objects.create(document=document, scope=GrantScope.ORGANIZATION)
            elif isinstance(grant, Team):
                AccessGrant.objects.create(document=document, scope=GrantScope.TEAM, team=grant)
            elif isinstance(grant, User):
                AccessGrant.objects.create(document=document, scope=GrantScope.USER, user=grant)
            else:
                raise TypeError(f"Unknown grant {grant!r}")
        make_version(document, texts, headings=headings, user=user)
    document.refresh_from_db()
    return document


def make_version(
    document: Document, texts: list[str], *, headings: list[list[str]] | None = None, user=None
) -> DocumentVersion:
    """A new ready version of `document` that becomes current; the previous one is superseded."""
    org = document.organization
    embedder = get_embedder(org.embedding_model)
    full_text = "\n\n".join(texts)
    with transaction.atomic():
        previous = document.current_version
        number = (document.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        sha = hashlib.sha256(f"{document.pk}:{number}:{full_text}".encode()).hexdigest()
        version = DocumentVersion.objects.create(
            document=document,
            number=number,
            file=f"originals/test/{sha}",
            original_filename=f"{document.external_id}.txt",
            sha256=sha,
            size_bytes=len(full_text.encode()),
            content_type="text/plain",
            status=VersionStatus.READY,
            chunks_total=len(texts),
            chunks_done=len(texts),
            text=full_text,
            created_by=user,
            ready_at=timezone.now(),
        )
        offset = 0
        chunks = []
        for ordinal, text in enumerate(texts):
            chunks.append(
                Chunk(
                    version=version,
                    document=document,
                    organization=org,
                    ordinal=ordinal,
                    text=text,
                    page=ordinal + 1,
                    heading_path=(headings[ordinal] if headings else []),
                    char_start=offset,
                    char_end=offset + len(text),
                    content_hash=hashlib.sha256(text.encode()).hexdigest(),
                    token_count=embedder.count_tokens(text),
                )
            )
            offset += len(text) + 2
        chunks = Chunk.objects.bulk_create(chunks)
        vectors = embedder.embed(texts) if texts else []
        ChunkEmbedding.objects.bulk_create(
            ChunkEmbedding(
                chunk=chunk,
                version=version,
                organization=org,
                model=org.embedding_model,
                dimensions=embedder.dimensions,
                embedding=vector,
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        )
        chunks_lexical_update(version_id=version.pk)
        if previous is not None:
            DocumentVersion.objects.filter(pk=previous.pk).update(status=VersionStatus.SUPERSEDED)
        document.current_version = version
        document.save(update_fields=["current_version", "updated_at"])
    return version


def make_prompt_log(org, user=None, *, days_ago: float = 0, answer=None, prompt="", output="", **fields) -> PromptLog:
    """A model call's log. It is built from no document unless `retrieved_document_ids` says so: who
    may read a log's content depends on those documents (citadel.documents.access.content_view)."""
    started = timezone.now() - timedelta(days=days_ago)
    defaults = {
        "feature": "answer",
        "provider": "extractive",
        "model": "",
        "status": "ok",
        "content_mode": org.prompt_log_mode,
        "tokens_in": 120,
        "tokens_out": 40,
        "retrieved_chunk_ids": [1, 2],
        "retrieved_document_ids": [],
        "cited_chunk_ids": [2],
    }
    return PromptLog.objects.create(
        organization=org,
        user=user,
        answer=answer,
        started_at=started,
        finished_at=started + timedelta(milliseconds=250),
        latency_ms=250,
        prompt_text=prompt,
        output_text=output,
        **{**defaults, **fields},
    )
