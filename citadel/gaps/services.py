"""Writes of content gaps: the refresh that groups unanswered questions into gaps, and handling a gap.

A refresh embeds only questions without a vector under the organization's model, groups all the
candidates again (citadel.gaps.clustering) and then, under the organization's gaps lock in one
transaction, matches the new groups to the stored gaps by shared questions: a gap keeps its
identity, and its handling, while most of its questions stay together. A handled gap that gains a
question asked after its handling reopens (an audit event says so)."""

import logging
import time
from collections import Counter
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.accounts.rules import require_role
from citadel.audit.services import audit_record
from citadel.core.errors import InvalidInput
from citadel.core.locks import xact_lock
from citadel.core.principal import Principal, Role
from citadel.documents.access import get_readable_document
from citadel.gaps import clustering
from citadel.gaps.labels import telling_words
from citadel.gaps.models import Gap, GapMember, GapRefresh, GapStatus, QuestionVector
from citadel.gaps.selectors import Candidate, candidates_fingerprint, gap_candidates, gap_get, last_refresh
from citadel.providers.embeddings import FAKE, get_embedder

logger = logging.getLogger(__name__)

# (threshold, merge_threshold) of citadel.gaps.clustering per embedder, fitted on development
# questions (bench/content_gaps.py --fit: SQuAD 2.0 dev's 32 articles and the demo's golden and
# phrased questions, each labelled by its article or expected document), never on the bench's own
# set. all-MiniLM-L6-v2's: purity 0.91, coverage 0.79 there (0.60/0.50 is purer, 0.94, but finds
# fewer topics and groups twice as slowly). Other models take it too. The fake embedder (tests)
# measures word overlap, stopwords included: its best on the same grid, at purity 0.33.
THRESHOLDS = {FAKE: (0.5, 0.3)}
DEFAULT_THRESHOLDS = (0.55, 0.45)
EMBED_BATCH = 256
MAX_NOTE_CHARS = 2000


def _knob(name: str) -> int:
    return int(settings.CITADEL[name])


def gaps_refresh(*, organization: Organization, force: bool = False) -> dict:
    """Group the organization's unanswered questions of the last GAPS_WINDOW_DAYS into gaps and
    store them. Skipped (`"skipped": true`) when the questions, their reasons and the model are
    what the last refresh saw, unless `force`. Returns the figures the command prints."""
    started = time.monotonic()
    now = timezone.now()
    since = now - timedelta(days=_knob("GAPS_WINDOW_DAYS"))
    model = organization.embedding_model
    candidates = gap_candidates(organization=organization, since=since, limit=_knob("GAPS_MAX_QUESTIONS"))
    thresholds = THRESHOLDS.get(get_embedder(model).model_name, DEFAULT_THRESHOLDS)
    knobs = (*thresholds, _knob("GAPS_MIN_QUESTIONS"))
    fingerprint = candidates_fingerprint(model=model, candidates=candidates, settings=knobs)
    previous = last_refresh(organization=organization)
    if not force and previous is not None and previous.fingerprint == fingerprint:
        return {"organization": organization.slug, "skipped": True, "questions": len(candidates), "gaps": previous.gaps}
    vectors, embedded = _vectors(organization=organization, model=model, candidates=candidates)
    groups = _groups(candidates, vectors, thresholds)
    with transaction.atomic():
        xact_lock("citadel.gaps", organization.pk)
        written = _gaps_write(organization=organization, model=model, groups=groups, now=now)
        seconds = round(time.monotonic() - started, 3)
        GapRefresh.objects.update_or_create(
            organization=organization,
            defaults={
                "fingerprint": fingerprint,
                "refreshed_at": now,
                "questions": len(candidates),
                "gaps": written["gaps"],
                "seconds": seconds,
            },
        )
        figures = {"questions": len(candidates), "embedded": embedded, **written, "seconds": seconds}
        audit_record(verb="gaps.refreshed", organization=organization, metadata=figures)
    return {"organization": organization.slug, "skipped": False, **figures}


def gaps_refresh_all() -> int:
    """Refresh every organization's gaps (the maintenance schedule); how many were recomputed.
    One organization's failure (its embedding service down) is logged and does not stop the rest."""
    recomputed = 0
    for organization in Organization.objects.order_by("pk"):
        try:
            recomputed += not gaps_refresh(organization=organization)["skipped"]
        except Exception:
            logger.exception("Content gaps of organization %s could not be refreshed.", organization.pk)
    return recomputed


def _vectors(*, organization: Organization, model: str, candidates: list[Candidate]) -> tuple[np.ndarray, int]:
    """The candidates' vectors under `model`, in their order, embedding (and keeping) only those
    without one; and how many were embedded."""
    stored = dict(
        QuestionVector.objects.filter(question_id__in=[c.question_id for c in candidates], model=model).values_list(
            "question_id", "vector"
        )
    )
    missing = [c for c in candidates if c.question_id not in stored]
    embedder = get_embedder(model) if missing else None
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start : start + EMBED_BATCH]
        vectors = clustering.normalised(np.array(embedder.embed([c.text for c in batch]), dtype=np.float32))
        rows = [
            QuestionVector(question_id=c.question_id, organization=organization, model=model, vector=vector.tobytes())
            for c, vector in zip(batch, vectors, strict=True)
        ]
        QuestionVector.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["question"], update_fields=["model", "vector"]
        )
        stored.update((row.question_id, row.vector) for row in rows)
    if not candidates:
        return np.zeros((0, 0), dtype=np.float32), 0
    return np.stack([np.frombuffer(stored[c.question_id], dtype=np.float32) for c in candidates]), len(missing)


def _groups(candidates: list[Candidate], vectors: np.ndarray, thresholds: tuple[float, float]) -> list[dict]:
    """The groups large enough to be gaps: members with their similarity to the centroid, label words."""
    if not candidates:
        return []
    # Oldest first: a gap's first questions lead it, as they were asked.
    order = np.argsort(np.array([c.asked_at.timestamp() for c in candidates]), kind="stable")
    candidates = [candidates[i] for i in order]
    vectors = vectors[order]
    labels = clustering.cluster(vectors, threshold=thresholds[0], merge_threshold=thresholds[1])
    centroids = clustering.centroids(vectors, labels)
    similarity = np.einsum("ij,ij->i", clustering.normalised(vectors), centroids[labels])
    members: list[list[int]] = [[] for _ in range(len(centroids))]
    for i, group in enumerate(labels.tolist()):
        members[group].append(i)
    # Every group takes part in naming, the small ones too: a word is telling against all the rest.
    words = telling_words([[candidates[i].text for i in indexes] for indexes in members])
    minimum = _knob("GAPS_MIN_QUESTIONS")
    return [
        {
            "centroid": centroids[group],
            "terms": words[group],
            "members": [(candidates[i], float(similarity[i])) for i in indexes],
        }
        for group, indexes in enumerate(members)
        if len(indexes) >= minimum
    ]


def _gaps_write(*, organization: Organization, model: str, groups: list[dict], now) -> dict:
    """Match the groups to the stored gaps (most shared questions first, a stored gap to at most
    one group, at least half of the smaller side shared), rewrite every gap's members, reopen
    handled gaps that gained a question asked after their handling. Runs under the gaps lock."""
    gaps = {g.pk: g for g in Gap.objects.select_for_update().filter(organization=organization)}
    old_sizes = Counter()
    gap_of: dict[int, int] = {}
    for gap_id, question_id in GapMember.objects.filter(gap__organization=organization).values_list(
        "gap_id", "question_id"
    ):
        gap_of[question_id] = gap_id
        old_sizes[gap_id] += 1
    pairs = []
    for index, group in enumerate(groups):
        shared = Counter(gap_of[c.question_id] for c, _ in group["members"] if c.question_id in gap_of)
        for gap_id, n in shared.items():
            if n * 2 >= min(len(group["members"]), old_sizes[gap_id]):
                pairs.append((n, index, gap_id))
    matched: dict[int, int] = {}
    for _, index, gap_id in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if index not in matched and gap_id not in matched.values():
            matched[index] = gap_id
    GapMember.objects.filter(gap__organization=organization).delete()
    kept = set(matched.values())
    # A gap someone handled stays, with no questions, until its topic comes back; others go.
    Gap.objects.filter(organization=organization).exclude(pk__in=kept).exclude(status=GapStatus.HANDLED).delete()
    created = reopened = 0
    rows = []
    for index, group in enumerate(groups):
        # Never a question itself: reviewers read labels, and only admins read what members asked.
        label = ", ".join(group["terms"]) or "(no word shared by its questions)"
        fields = {
            "label": label[:200],
            "terms": group["terms"],
            "centroid": group["centroid"].astype(np.float32).tobytes(),
            "model": model,
            "refreshed_at": now,
        }
        if index in matched:
            gap = gaps[matched[index]]
            for name, value in fields.items():
                setattr(gap, name, value)
            newer = [c for c, _ in group["members"] if gap.handled_at and c.asked_at > gap.handled_at]
            if gap.status == GapStatus.HANDLED and newer:
                gap.status = GapStatus.OPEN
                reopened += 1
                audit_record(
                    verb="gaps.reopened",
                    organization=organization,
                    target=gap,
                    metadata={"label": gap.label, "handled_at": gap.handled_at, "new_questions": len(newer)},
                )
            gap.save()
        else:
            gap = Gap.objects.create(organization=organization, **fields)
            created += 1
        rows.extend(
            GapMember(gap=gap, question_id=c.question_id, asked_at=c.asked_at, similarity=s, reason=c.reason)
            for c, s in group["members"]
        )
    GapMember.objects.bulk_create(rows, batch_size=5000)
    return {"gaps": len(groups), "created": created, "reopened": reopened, "members": len(rows)}


def gap_handle(*, principal: Principal, gap_id: int, note: str = "", document_id: int | None = None) -> Gap:
    """Mark a gap handled, with a note or the document written for it (one the admin may read). It
    stays handled until a question asked after now joins it."""
    principal = require_role(principal, Role.ADMIN, "Only the organization's admins handle content gaps.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"A note has at most {MAX_NOTE_CHARS} characters.")
    document = get_readable_document(principal, document_id) if document_id is not None else None
    if not note and document is None:
        raise InvalidInput("Say how the gap was handled: a note, a document, or both.")
    with transaction.atomic():
        gap = gap_get(principal=principal, gap_id=gap_id)
        gap = Gap.objects.select_for_update().get(pk=gap.pk)
        gap.status = GapStatus.HANDLED
        gap.handled_at = timezone.now()
        gap.handled_by_id = principal.user_id
        gap.handled_note = note
        gap.handled_document = document
        gap.save(update_fields=["status", "handled_at", "handled_by", "handled_note", "handled_document"])
        audit_record(
            verb="gaps.handled",
            organization=principal.organization_id,
            actor=principal,
            target=gap,
            metadata={"label": gap.label, "note": note, "document_id": document.pk if document else None},
        )
    return gap
