"""Follow-ups with a language model configured: the model's rewrite is searched when it passes the
check, the offline rewrite when it does not or the call fails; every call is in the prompt log."""

import pytest

from citadel.answers.services import question_create
from citadel.audit.models import AuditEvent, PromptLog
from tests.factories import make_document
from tests.llm_server import Reply

FIRST = "What is the daily meal allowance when travelling?"
OFFLINE = "What is the daily meal allowance when travelling abroad?"


@pytest.fixture
def ann(world):
    org = world.org("acme")
    org.generation_provider, org.generation_model = "openai", "gpt-4o-mini"
    org.save()
    make_document(org, "meals", ["The daily meal allowance abroad is 60 euros. At home it is 35 euros."])
    return world.principal("ann", org)


def _follow_up(ann, text="and abroad?"):
    thread_id = question_create(principal=ann, text=FIRST).thread_id
    return question_create(principal=ann, text=text, thread_id=thread_id)


def _asked(question) -> dict:
    return AuditEvent.objects.get(verb="answers.asked", target_id=str(question.pk)).metadata


def test_a_rewrite_that_passes_the_check_is_searched_and_logged(ann, openai_env):
    """Given a thread on the meal allowance, when Ann follows up and the model rewrites it with the
    thread's words, then that rewrite is searched, the call is logged as a rewrite holding only
    her questions, and the audit says the model rewrote it."""
    openai_env.script(Reply(text="Meal allowance abroad, daily?"))

    question = _follow_up(ann)

    assert question.searched_as == "Meal allowance abroad, daily?" and question.drew_on.text == FIRST
    log = PromptLog.objects.get(feature="rewrite")
    assert log.status == "ok" and log.user_id == ann.user_id and log.retrieved_chunk_ids == []
    assert FIRST in log.prompt_text and "60 euros" not in log.prompt_text
    assert _asked(question)["rewritten_by"] == "model" and _asked(question)["model_rewrite_refused"] is False


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text="What is the daily meal allowance when travelling to Japan?"),  # drops "abroad", adds "Japan"
        Reply(status=500),
        Reply(raw=b"not json"),
    ],
)
def test_a_refused_or_failed_rewrite_falls_back_to_the_offline_one(ann, openai_env, reply):
    openai_env.script(reply, reply, reply)

    question = _follow_up(ann)

    assert question.searched_as == OFFLINE and question.drew_on.text == FIRST
    assert _asked(question)["rewritten_by"] == "offline"
    assert PromptLog.objects.filter(feature="rewrite").exists()


def test_a_question_the_model_returns_as_asked_is_searched_as_asked(ann, openai_env):
    openai_env.script(Reply(text="How long do refunds take?"))

    question = _follow_up(ann, "How long do refunds take?")

    assert question.searched_as == "" and question.drew_on is None
    assert _asked(question)["rewritten"] is False


def test_a_first_question_asks_the_model_nothing(ann, openai_env):
    question_create(principal=ann, text=FIRST)

    assert not PromptLog.objects.filter(feature="rewrite").exists() and openai_env.requests == []
