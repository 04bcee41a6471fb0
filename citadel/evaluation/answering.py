"""Answer runs ask each golden question through the real answer pipeline, as the admin who
started the run, and read back what was retrieved and what was cited. A follow-up is asked in a
thread after its earlier turns, as a member asks it. Asked as an evaluation (QuestionOrigin):
never sent to review, and logged as the "evaluation" feature, not as the admin's asking."""

from collections.abc import Sequence
from dataclasses import dataclass

from citadel.answers.models import AnswerStatus, QuestionOrigin
from citadel.answers.services import answer_question
from citadel.core.principal import Principal


@dataclass(frozen=True, slots=True)
class Passage:
    """What scoring.judge needs of a passage."""

    chunk_id: int | None
    external_id: str
    text: str


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    answer_id: int
    status: str
    abstained: bool
    retrieved: list[Passage]
    cited: list[Passage]
    searched_as: str = ""


def _passage(row) -> Passage:
    return Passage(
        chunk_id=row.chunk_id,
        external_id=row.document.external_id if row.document else "",
        text=row.chunk.text if row.chunk else "",
    )


def answer_for_evaluation(*, principal: Principal, question: str, earlier_turns: Sequence[str] = ()) -> AnswerOutcome:
    thread_id = None
    for turn in earlier_turns:
        thread_id = answer_question(
            principal=principal, text=turn, thread_id=thread_id, origin=QuestionOrigin.EVALUATION
        ).question.thread_id
    answer = answer_question(principal=principal, text=question, thread_id=thread_id, origin=QuestionOrigin.EVALUATION)
    passages = list(answer.passages.select_related("document", "chunk").order_by("n"))
    by_n = {row.n: row for row in passages}
    cited_ns = list(dict.fromkeys(answer.citations.order_by("n").values_list("passage__n", flat=True)))
    # A held answer (pending review) keeps the generator's verdict in its flags.
    abstained = answer.abstained or answer.status == AnswerStatus.FAILED
    return AnswerOutcome(
        answer_id=answer.pk,
        status=answer.status,
        abstained=abstained,
        retrieved=[_passage(row) for row in passages],
        cited=[_passage(by_n[n]) for n in cited_ns if n in by_n],
        searched_as=answer.question.searched_as,
    )
