"""Evaluation, for admins: golden sets, starting a run (queued; runs retrieve as the admin who
started them), and reading a run's metrics and per-question results."""

from datetime import datetime

from ninja import Router, Schema, Status
from pydantic import Field

from citadel.accounts.rules import require_role
from citadel.api.fields import Id
from citadel.api.responses import errors
from citadel.api.runs import RunOut as RunProgressOut
from citadel.core.principal import Principal, Role
from citadel.evaluation import selectors, services
from citadel.evaluation.models import EvalRun, RunKind
from citadel.jobs.selectors import run_progress

router = Router(tags=["evaluation"])


class EvalSetOut(Schema):
    id: int
    name: str
    description: str
    questions: int
    created_at: datetime


class RunIn(Schema):
    eval_set_id: Id
    kind: RunKind = RunKind.RETRIEVAL
    k: int | None = Field(None, ge=1, le=services.MAX_RUN_K, description="Default: the organization's k.")


class RunOut(Schema):
    id: int
    eval_set_id: int
    eval_set: str
    kind: str
    k: int
    status: str = Field(description="queued, running, done, failed or cancelled.")
    done: int
    total: int
    progress_percent: int
    metrics: dict
    settings: dict
    settings_applied: bool
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run: RunProgressOut = Field(
        description="The evaluation as a run: progress, time running, a lost worker, who cancelled it."
    )


class ResultOut(Schema):
    question: str
    earlier_turns: list[str] = Field(description="A follow-up's earlier questions in its thread, oldest first.")
    searched_as: str = Field(description="What a follow-up was searched as; empty when searched as asked.")
    expected_external_ids: list
    retrieved_external_ids: list
    cited_external_ids: list
    answer_id: int | None
    answer_status: str
    abstained: bool
    classification: str
    metrics: dict


class RunDetail(RunOut):
    results: list[ResultOut]


def _admin(principal: Principal) -> Principal:
    return require_role(principal, Role.ADMIN, "Only the organization's admins may use evaluation.")


def _run_out(run: EvalRun) -> dict:
    return {
        "id": run.pk,
        "eval_set_id": run.eval_set_id,
        "eval_set": run.eval_set.name,
        "kind": run.kind,
        "k": run.k,
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "progress_percent": run.progress_percent,
        "metrics": run.metrics or {},
        "settings": run.settings or {},
        "settings_applied": run.settings_applied,
        "error": run.error_message,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "run": run_progress(run),
    }


def _run_detail(principal: Principal, run_id: int) -> dict:
    run = selectors.get_run(principal=principal, run_id=run_id)
    results = [
        {
            "question": r.question,
            "earlier_turns": r.earlier_turns or [],
            "searched_as": r.searched_as,
            "expected_external_ids": r.expected_external_ids or [],
            "retrieved_external_ids": r.retrieved_external_ids or [],
            "cited_external_ids": r.cited_external_ids or [],
            "answer_id": r.answer_id,
            "answer_status": r.answer_status,
            "abstained": r.abstained,
            "classification": r.classification,
            "metrics": r.metrics or {},
        }
        for r in selectors.results_of(run=run)
    ]
    return {**_run_out(run), "results": results}


@router.get("/sets", response={200: list[EvalSetOut], **errors(400, 401, 403, 422)}, url_name="eval_sets")
def eval_sets(request):
    """The organization's golden question sets."""
    principal = _admin(request.auth)
    return [
        {
            "id": s.pk,
            "name": s.name,
            "description": s.description,
            "questions": s.question_count,
            "created_at": s.created_at,
        }
        for s in selectors.eval_sets_for(principal=principal).order_by("name")
    ]


@router.get("/runs", response={200: list[RunOut], **errors(400, 401, 403, 422)}, url_name="eval_runs")
def eval_runs(request):
    """The 50 most recent runs."""
    principal = _admin(request.auth)
    return [_run_out(r) for r in selectors.runs_for(principal=principal)[:50]]


@router.post("/runs", response={202: RunDetail, **errors(400, 401, 403, 404, 422)}, url_name="eval_run_start")
def eval_run_start(request, payload: RunIn):
    """Queue a run of a golden set with the organization's current retrieval settings; poll the
    run until its status is `done`, `failed` or `cancelled` (cancel it with
    `POST /runs/evaluation_runs/{id}/cancel`)."""
    principal = _admin(request.auth)
    run = services.eval_run_start(principal=principal, eval_set_id=payload.eval_set_id, kind=payload.kind, k=payload.k)
    return Status(202, _run_detail(principal, run.pk))


@router.get("/runs/{run_id}", response={200: RunDetail, **errors(400, 401, 403, 404, 422)}, url_name="eval_run")
def eval_run(request, run_id: Id):
    """A run: progress, metrics (recall@k, MRR, nDCG@k ...) and each question's result."""
    return _run_detail(_admin(request.auth), run_id)
