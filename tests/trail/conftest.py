"""Audit-browser test helpers: answers, review items and prompt logs built straight from the models, so
these tests depend only on the models' fields, not on the answer pipeline."""

import pytest

from citadel.answers.models import Answer, AnswerStatus, Citation, Question, RetrievedPassage
from citadel.documents.models import Document


def make_answer(org, asker, question: str, *, status=AnswerStatus.ANSWERED, retrieved=(), cited=()) -> Answer:
    """An answer whose passages come from `retrieved` documents; `cited` ones are also cited."""
    q = Question.objects.create(organization=org, asker=asker, text=question)
    answer = Answer.objects.create(question=q, organization=org, status=status, provider="extractive", text="…")
    for n, document in enumerate(retrieved, start=1):
        passage = RetrievedPassage.objects.create(answer=answer, n=n, document=document, score=1.0 / n)
        if document in cited:
            Citation.objects.create(answer=answer, n=n, passage=passage, quote="q", quote_start=0, quote_end=1)
    return answer


def make_document(org, title: str) -> Document:
    return Document.objects.create(organization=org, external_id=title.lower().replace(" ", "-"), title=title)


@pytest.fixture
def tenants(world):
    """Acme (admin ann, reviewer rita, member mo) and Globex (admin gus), each with a marker
    event only its own readers may ever see."""
    from citadel.audit.services import audit_record_now

    acme, globex = world.org("acme"), world.org("globex")
    people = {
        "ann": world.user("ann", acme, role="admin"),
        "rita": world.user("rita", acme, role="reviewer"),
        "mo": world.user("mo", acme, role="member"),
        "gus": world.user("gus", globex, role="admin"),
    }
    audit_record_now(verb="documents.uploaded", organization=acme, metadata={"title": "Acme merger plan"})
    audit_record_now(verb="documents.uploaded", organization=globex, metadata={"title": "Globex pricing sheet"})
    return acme, globex, people
