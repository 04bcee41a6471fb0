"""Answers as the answers app leaves them, built directly so review is tested on its own."""

from citadel.answers.models import Answer, Citation, Question, RetrievedPassage
from tests.factories import make_document


def make_answer(
    org,
    asker,
    *,
    question: str = "How long do refunds take?",
    text: str = "Refunds take 14 days [1].",
    status: str = "pending_review",
    flags: list[str] | None = None,
    uncovered: list[str] | None = None,
    documents=(),
) -> Answer:
    """An answer whose retrieved passages are the first chunk of each document (cited)."""
    q = Question.objects.create(organization=org, asker=asker, text=question)
    answer = Answer.objects.create(
        question=q,
        organization=org,
        status=status,
        text=text,
        original_text=text,
        provider="extractive",
        flags=list(flags or []),
        uncovered=list(uncovered or []),
        review_state="pending" if status == "pending_review" else "none",
    )
    for n, document in enumerate(documents, start=1):
        chunk = document.current_version.chunks.order_by("ordinal").first()
        passage = RetrievedPassage.objects.create(
            answer=answer,
            n=n,
            chunk=chunk,
            document=document,
            version=document.current_version,
            score=0.9 / n,
            dense_rank=n,
            lexical_rank=n + 1,
        )
        Citation.objects.create(
            answer=answer,
            n=n,
            passage=passage,
            quote=chunk.text[:20],
            quote_start=0,
            quote_end=min(20, len(chunk.text)),
        )
    return answer


def handbook(org, **kwargs):
    return make_document(org, "handbook", ["Refunds take 14 days.", "Shipping is free."], **kwargs)
