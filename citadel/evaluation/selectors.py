"""Reads of the evaluation app. Everything is scoped to the principal's organization: another
organization's sets and runs are NotFound, never forbidden."""

from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from citadel.core.errors import NotFound
from citadel.core.principal import Principal
from citadel.evaluation import scoring
from citadel.evaluation.models import EvalResult, EvalRun, EvalSet, GoldenQuestion, RunKind, RunStatus


def eval_sets_for(*, principal: Principal) -> QuerySet[EvalSet]:
    return EvalSet.objects.filter(organization_id=principal.organization_id).annotate(
        question_count=Count("questions", distinct=True)
    )


def get_eval_set(*, principal: Principal, eval_set_id) -> EvalSet:
    try:
        return eval_sets_for(principal=principal).get(pk=int(eval_set_id))
    except (EvalSet.DoesNotExist, TypeError, ValueError):
        raise NotFound("Evaluation set not found.") from None


def questions_of(*, eval_set: EvalSet) -> QuerySet[GoldenQuestion]:
    return eval_set.questions.select_related("created_by").order_by("id")


def runs_for(*, principal: Principal, eval_set: EvalSet | None = None) -> QuerySet[EvalRun]:
    runs = EvalRun.objects.filter(organization_id=principal.organization_id).select_related(
        "eval_set", "started_by", "cancelled_by"
    )
    return runs.filter(eval_set=eval_set) if eval_set is not None else runs


def get_run(*, principal: Principal, run_id) -> EvalRun:
    try:
        return runs_for(principal=principal).get(pk=int(run_id))
    except (EvalRun.DoesNotExist, TypeError, ValueError):
        raise NotFound("Evaluation run not found.") from None


def results_of(*, run: EvalRun) -> QuerySet[EvalResult]:
    return run.results.order_by("golden_question_id")


def latest_done_run_on(*, principal: Principal, settings: dict, eval_set: EvalSet | None = None) -> EvalRun | None:
    """The newest finished retrieval run that really measured `settings` (normalised)."""
    return (
        runs_for(principal=principal, eval_set=eval_set)
        .filter(kind=RunKind.RETRIEVAL, settings=settings, settings_applied=True, status=RunStatus.DONE)
        .first()
    )


@dataclass(frozen=True, slots=True)
class MetricDelta:
    key: str
    label: str
    a: float | None
    b: float | None
    higher_is_better: bool

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else round(self.b - self.a, 4)

    @property
    def verdict(self) -> str:
        """ "better", "worse" or "same", from B's point of view."""
        delta = self.delta
        if not delta:
            return "same"
        return "better" if (delta > 0) == self.higher_is_better else "worse"


@dataclass(frozen=True, slots=True)
class QuestionChange:
    question: str
    a: EvalResult
    b: EvalResult


@dataclass
class Comparison:
    a: EvalRun
    b: EvalRun
    metrics: list[MetricDelta] = field(default_factory=list)
    better: list[QuestionChange] = field(default_factory=list)
    worse: list[QuestionChange] = field(default_factory=list)
    unchanged: int = 0
    unmatched: int = 0


def _match_key(result: EvalResult, by_id: bool):
    return result.golden_question_id if by_id else " ".join(result.question.lower().split())


def compare_runs(*, a: EvalRun, b: EvalRun) -> Comparison:
    """B against A: metric deltas and the questions whose outcome rose or fell. Questions are
    matched by golden question within one set, by their text across sets."""
    comparison = Comparison(a=a, b=b)
    for key, label, higher in scoring.METRIC_LABELS:
        if key in a.metrics or key in b.metrics:
            comparison.metrics.append(
                MetricDelta(key=key, label=label, a=a.metrics.get(key), b=b.metrics.get(key), higher_is_better=higher)
            )
    by_id = a.eval_set_id == b.eval_set_id
    use_classification = a.kind == b.kind == RunKind.ANSWER
    a_results = {_match_key(r, by_id): r for r in results_of(run=a)}
    for rb in results_of(run=b):
        ra = a_results.pop(_match_key(rb, by_id), None)
        if ra is None:
            comparison.unmatched += 1
            continue
        score_a = scoring.outcome_score(
            classification=ra.classification if use_classification else "", metrics_row=ra.metrics
        )
        score_b = scoring.outcome_score(
            classification=rb.classification if use_classification else "", metrics_row=rb.metrics
        )
        change = QuestionChange(question=rb.question, a=ra, b=rb)
        if score_b > score_a:
            comparison.better.append(change)
        elif score_b < score_a:
            comparison.worse.append(change)
        else:
            comparison.unchanged += 1
    comparison.unmatched += len(a_results)
    return comparison
