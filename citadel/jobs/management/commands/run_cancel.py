"""`manage.py run_cancel KIND ID --as USERNAME [--org SLUG] [--json]`: cancel a queued or running
run (KIND: reports, extractions, summaries, source_syncs, evaluation_runs, labelling) as who started it or an
admin. Its worker stops before the next item; what it finished is kept. Prints kind, id, status,
worker_lost, attempts, done, total, started_at, running_seconds, cancelled_by and cancelled_at."""

from citadel.accounts.selectors import principal_for_username
from citadel.core.commands import JsonCommand
from citadel.jobs.registry import run_kind
from citadel.jobs.selectors import run_progress
from citadel.jobs.services import run_cancel


class Command(JsonCommand):
    help = "Cancel a queued or running background run."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="reports, extractions, summaries, source_syncs, evaluation_runs or labelling")
        parser.add_argument("run_id", type=int)
        parser.add_argument("--as", dest="username", required=True, help="Username of who cancels it.")
        parser.add_argument("--org", dest="org", help="Organization slug (needed when the user has several).")

    def run(self, *, kind, run_id, username, org=None, **_):
        principal = principal_for_username(username=username, org_slug=org)
        run = run_cancel(model=run_kind(kind).model, principal=principal, run_id=run_id)
        return run_progress(run)

    def render_text(self, result) -> str:
        by = f" by {result['cancelled_by']}" if result["cancelled_by"] else ""
        return f"{result['kind']} {result['id']}: {result['status']}{by} ({result['done']}/{result['total']} done)"
