"""`manage.py reap_stale`: fail tasks of dead workers, re-queue (or fail) versions whose lease ran
out, and every kind of run that lost its worker (reported by the kind's name). Workers run this
every 30 seconds; the command is for cron or an operator."""

from citadel.core.commands import JsonCommand
from citadel.jobs.registry import run_kinds
from citadel.ops.reaper import reap_stale


class Command(JsonCommand):
    help = "Reap tasks of dead workers and versions whose lease expired."

    def run(self, **_):
        return reap_stale()

    def render_text(self, result) -> str:
        if result.get("skipped"):
            return "Another reaper is running."
        return (
            f"Tasks failed: {len(result['tasks_failed'])}; versions re-queued: {len(result['versions_requeued'])}; "
            f"versions failed: {len(result['versions_failed'])}; versions resubmitted: "
            f"{len(result['versions_resubmitted'])}; "
            + "; ".join(
                f"{kind.name}: {len(result[kind.name]['requeued'])} re-queued, {len(result[kind.name]['failed'])} "
                f"failed, {len(result[kind.name]['resubmitted'])} resubmitted"
                for kind in run_kinds()
            )
            + "."
        )
