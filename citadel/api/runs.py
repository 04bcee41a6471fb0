"""Background runs of every kind (reports, extractions, summaries, source syncs, evaluation runs,
labelling): cancel one."""

from ninja import Router, Schema
from pydantic import Field

from citadel.api.fields import Id
from citadel.api.responses import errors
from citadel.jobs.registry import run_kind
from citadel.jobs.selectors import run_progress
from citadel.jobs.services import run_cancel

router = Router(tags=["runs"])


class RunOut(Schema):
    kind: str = Field(description="reports, extractions, summaries, source_syncs, evaluation_runs or labelling.")
    id: int
    status: str = Field(description="queued, running, failed, cancelled, or the kind's finished state.")
    worker_lost: bool = Field(description="Running, but its worker stopped: the reaper will resume it.")
    attempts: int
    done: int = Field(description="Items (documents, questions, files) finished.")
    total: int = Field(description="Items in all; 0 until the run has counted them.")
    started_at: str | None
    running_seconds: int | None = Field(description="How long it has been running, or ran.")
    cancelled_by: str | None
    cancelled_at: str | None


@router.post("/{kind}/{run_id}/cancel", response={200: RunOut, **errors(401, 403, 404)}, url_name="run_cancel")
def cancel(request, kind: str, run_id: Id):
    """Cancel a queued or running run, as who started it or an admin: its worker stops before the
    next item and what it finished is kept. A run that has ended is returned as it is."""
    return run_progress(run_cancel(model=run_kind(kind).model, principal=request.auth, run_id=run_id))
