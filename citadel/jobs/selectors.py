"""What every kind of run says about itself, the same on every page, command and API."""

from citadel.jobs.models import Run
from citadel.jobs.registry import run_kind_of


def run_progress(run: Run) -> dict:
    """The fields every run's `--json` and API carry: its state, progress and time running."""
    running_for = run.running_for
    return {
        "kind": run_kind_of(type(run)).name,
        "id": run.pk,
        "status": run.status,
        # Its worker stopped and the reaper will give it to another (the page says "worker lost, will resume").
        "worker_lost": run.lost,
        "attempts": run.attempts,
        "done": run.done,
        "total": run.total,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "running_seconds": round(running_for.total_seconds()) if running_for is not None else None,
        "cancelled_by": run.cancelled_by.get_username() if run.cancelled_by_id else None,
        "cancelled_at": run.cancelled_at.isoformat() if run.cancelled_at else None,
    }
