"""Hand-made unanswered questions for the gaps tests, written straight to the tables (no model, no
pipeline) and dated where the test says."""

from datetime import UTC, datetime, timedelta

from citadel.answers.models import Answer, Citation, Feedback, Question, RetrievedPassage

DAY = (datetime.now(UTC) - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)

# Short questions sharing their topic's words: the fake embedder's similarity is word overlap.
SABBATICAL = [
    "How long is sabbatical leave?",
    "Who approves sabbatical leave?",
    "Is sabbatical leave paid?",
    "Can I take sabbatical leave twice?",
    "What are the sabbatical leave rules?",
]
PARKING = [
    "Where do visitors park at the office car park?",
    "Is the office car park free?",
    "How do I get an office car park permit?",
    "office car park spaces",
]
STRAY = "What is the wifi password in the canteen?"


def asked(org, asker, text: str, *, status: str = "insufficient_evidence", at=DAY, uncovered=(), origin="ask"):
    """A question asked at `at` and its answer with `status`."""
    question = Question.objects.create(organization=org, asker=asker, text=text, origin=origin)
    Question.objects.filter(pk=question.pk).update(created_at=at)
    return Answer.objects.create(
        question=question, organization=org, status=status, provider="extractive", uncovered=list(uncovered)
    )


def not_helpful(answer, user) -> Feedback:
    return Feedback.objects.create(answer=answer, user=user, helpful=False, reason="wrong")


def cites(answer, document) -> Citation:
    passage = RetrievedPassage.objects.create(
        answer=answer, n=1, document=document, version=document.current_version, score=1.0
    )
    return Citation.objects.create(answer=answer, n=1, passage=passage, quote="q", quote_start=0, quote_end=1)
