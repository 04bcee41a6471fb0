"""The receipt: everything needed to explain an answer later, frozen when the answer is written."""

from django.conf import settings
from django.urls import reverse

from citadel.answers.checks import CheckResult
from citadel.answers.models import Answer
from citadel.answers.pipeline import Run
from citadel.documents.access import WITHHELD_NOTE, ContentView
from citadel.documents.models import misread_risk
from citadel.providers.generation import price_for

RECEIPT_VERSION = 1


def _iso(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def receipt_data(
    run: Run, answer: Answer, checked: CheckResult, support, review_item_id: int | None, error: str
) -> dict:
    hits = run.hits
    passages = []
    for p, h in zip(run.passages, hits, strict=True):
        passages.append(
            {
                "n": p.n,
                "chunk_id": h.chunk_id,
                "document_id": h.document_id,
                "external_id": h.external_id,
                "title": h.title,
                "version": h.version,
                "version_id": h.version_id,
                "page": h.page,
                "locator": h.locator,
                "ocr_confidence": h.ocr_confidence,
                "section": p.section,
                "score": h.score,
                "dense_rank": h.dense_rank,
                "lexical_rank": h.lexical_rank,
                "dense_score": h.dense_score,
                "lexical_score": h.lexical_score,
                "suspicious": p.suspicious,
                "document_updated_at": _iso(
                    h.document_updated_at or run.documents.get(h.document_id, {}).get("updated_at")
                ),
            }
        )
    citations = []
    for c in checked.citations:
        h = hits[c.n - 1]
        citations.append(
            {
                "n": c.n,
                "chunk_id": h.chunk_id,
                "document_id": h.document_id,
                "external_id": h.external_id,
                "title": h.title,
                "version": h.version,
                "version_id": h.version_id,
                "page": h.page,
                "locator": h.locator,
                "ocr_confidence": h.ocr_confidence,
                "misread_risk": misread_risk(h.ocr_confidence),
                "section": run.passages[c.n - 1].section,
                "quote": c.quote,
                "quote_start": c.start,
                "quote_end": c.end,
                "document_updated_at": passages[c.n - 1]["document_updated_at"],
            }
        )
    return {
        "receipt_version": RECEIPT_VERSION,
        "answer_id": answer.pk,
        "question_id": run.question.pk,
        "question": run.question.text,
        # A follow-up is searched as the standalone question its thread made of it; `drew_on` is
        # the earlier question it took its words from (None: searched as asked).
        "thread_id": run.question.thread_id,
        "searched_as": run.query,
        "drew_on": run.question.drew_on_id,
        "asker": {"id": run.principal.user_id, "username": run.principal.username},
        "organization": {"id": run.organization.pk, "slug": run.organization.slug},
        "asked_at": _iso(run.question.created_at),
        "finalized_at": _iso(answer.finalized_at),
        "status": answer.status,
        "requested_provider": run.requested_provider,
        "provider": answer.provider,
        "model": answer.model,
        "notice": answer.notice,
        "skipped_model": run.skipped_model,
        "error": error,
        "text": answer.text,
        "original_text": answer.original_text,
        "flags": answer.flags,
        "unsupported_sentences": checked.unsupported,
        "dropped_citations": checked.dropped,
        "evidence": evidence_data(run, answer, support),
        "retrieval": {
            "query": run.query,
            "k": int(settings.CITADEL.get("ANSWER_K", 8)),
            "scope": run.question.scope,
            "passages": passages,
        },
        "citations": citations,
        "review": {
            "required": review_item_id is not None,
            "item_id": review_item_id,
            "policy": run.organization.review_policy,
        },
        "model_calls": [
            {
                "provider": c.provider,
                "model": c.model,
                "status": c.status,
                "error_class": c.error_class,
                "attempts": c.attempts,
                "tokens_in": c.tokens_in,
                "tokens_out": c.tokens_out,
                "cost_usd": str(c.cost_usd),
                "price_known": price_for(c.model) is not None,
                "latency_ms": int(((c.finished_at or answer.finalized_at) - c.started_at).total_seconds() * 1000),
            }
            for c in run.calls
        ],
        "tokens_in": answer.tokens_in,
        "tokens_out": answer.tokens_out,
        "cost_usd": str(answer.cost_usd),
        "latency_ms": answer.latency_ms,
        "receipt_url": reverse("answers:receipt", args=[answer.pk]),
    }


def evidence_data(run: Run, answer: Answer, support) -> dict:
    """Why the answerer answered, answered in part or abstained: the support against its thresholds,
    the signals behind it, what the reader made of each candidate sentence, and what of the question
    the sources leave unsaid."""
    calibration = run.answerer.calibration
    assessment = run.assessment
    data = {
        "support": support,
        "score": assessment.score if assessment else "evidence",
        "abstain_below": assessment.abstain_below if assessment else calibration.abstain_below,
        "confident_from": assessment.confident_from if assessment else calibration.confident_from,
        "best_evidence": assessment.evidence if assessment else None,
        "evidence_floor": calibration.abstain_below,
        "signals": assessment.signals if assessment else {},
        "uncovered": answer.uncovered,
        "dense_weight": calibration.dense_weight,
        "embedding_model": run.organization.embedding_model,
    }
    if assessment and assessment.read:
        # Offsets are in the passage; the receipt shows each candidate's score, not its text.
        data["reader"] = {
            "model": assessment.model,
            "candidates": [
                {
                    "n": r.sentence.n,
                    "start": r.sentence.start,
                    "end": r.sentence.end,
                    "probability": round(r.probability, 4),
                }
                for r in assessment.read
            ],
        }
    return data


def receipt_for_viewer(data: dict, content: ContentView) -> dict:
    """The receipt as one viewer may read it: the answer's text (built from every document it
    cites, or every passage a model read) only when they may read all of them now; each quote only
    when they may read its document. Titles, versions, scores and the rest stay: they say what
    happened without showing what the documents say."""
    shown = {**data}
    if not content.complete:
        shown.update(text="", original_text="", unsupported_sentences=[])
        shown["withheld"] = {"note": WITHHELD_NOTE, "documents": content.withheld_titles}
    shown["citations"] = [
        c if content.allows(c.get("document_id")) else {**c, "quote": "", "withheld": True}
        for c in data.get("citations", [])
    ]
    return shown


def receipt_held_for_review(shown: dict) -> dict:
    """A receipt as its asker reads it while a reviewer holds the answer back (waiting, or
    rejected): without the text, the quotes, and the offsets that would point at them."""
    evidence = {k: v for k, v in shown.get("evidence", {}).items() if k != "reader"}
    return {
        **shown,
        "text": "",
        "original_text": "",
        "unsupported_sentences": [],
        "evidence": evidence,
        "citations": [
            {k: v for k, v in c.items() if k not in ("quote_start", "quote_end")} | {"quote": "", "withheld": True}
            for c in shown.get("citations", [])
        ],
    }
