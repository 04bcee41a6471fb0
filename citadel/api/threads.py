"""Threads: one asker's questions that follow each other. Only the asker reads their threads; to
anyone else a thread is a 404, exactly like a missing one."""

from datetime import datetime

from ninja import Router, Schema
from pydantic import Field

from citadel.answers import selectors
from citadel.api.fields import Id
from citadel.api.responses import errors

router = Router(tags=["answers"])


class TurnOut(Schema):
    question_id: int
    text: str = Field(description="The question as asked.")
    searched_as: str = Field(description="The standalone question that was searched (the text when not rewritten).")
    answer_id: int | None = Field(description="null while the question is being answered.")
    status: str | None = Field(
        description="The answer's status, as `status` in the ask response; null while answering."
    )
    created_at: datetime


class ThreadOut(Schema):
    id: int
    scope: dict = Field(description="What its turns are asked within (`document_ids`, `labels`, `team`); {} for all.")
    created_at: datetime
    updated_at: datetime
    turns: list[TurnOut] = Field(description="Oldest first.")


@router.get("/{thread_id}", response={200: ThreadOut, **errors(400, 401, 403, 404, 422)}, url_name="thread_detail")
def thread_detail(request, thread_id: Id):
    """One of your threads with its turns."""
    thread = selectors.get_thread(principal=request.auth, thread_id=thread_id)
    turns = []
    for question in selectors.thread_turns(thread):
        answer = getattr(question, "answer", None)
        turns.append(
            {
                "question_id": question.pk,
                "text": question.text,
                "searched_as": question.searched_as or question.text,
                "answer_id": answer.pk if answer else None,
                "status": answer.outcome if answer else None,
                "created_at": question.created_at,
            }
        )
    return {
        "id": thread.pk,
        "scope": thread.scope,
        "created_at": thread.created_at,
        "updated_at": thread.updated_at,
        "turns": turns,
    }
