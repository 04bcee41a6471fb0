"""`manage.py summarize EXTERNAL_ID --as USERNAME [--org SLUG] [--sync] [--json]`: the summary of
the document's current version: document, version, status (ready | queued | failed | cancelled |
stale | none), text, citations [n, chunk_id, document_id, external_id, title, version, page,
locator, quote], error, and run (the current version's summary as a background run: kind, id,
status, worker_lost, attempts, done, total, started_at, running_seconds, cancelled_by,
cancelled_at; null before one is requested). Without a summary yet, or with a failed or cancelled
one, one is requested (written in the background, or here with --sync)."""

from citadel.accounts.selectors import principal_for_username
from citadel.core.commands import JsonCommand
from citadel.core.errors import NotFound
from citadel.documents.access import readable_documents
from citadel.summaries.selectors import document_summary, summary_data
from citadel.summaries.services import summary_ensure


class Command(JsonCommand):
    help = "Print a document's summary, requesting it when there is none."

    def add_arguments(self, parser):
        parser.add_argument("external_id")
        parser.add_argument("--as", dest="username", required=True, help="Username of the reader.")
        parser.add_argument("--org", dest="org", help="Organization slug (needed when the user has several).")
        parser.add_argument("--sync", action="store_true", help="Write the summary here and wait for it.")

    def run(self, *, external_id, username, org=None, sync=False, **_):
        principal = principal_for_username(username=username, org_slug=org)
        document = (
            readable_documents(principal).select_related("current_version").filter(external_id=external_id).first()
        )
        if document is None:
            raise NotFound(f"No document {external_id!r} that you may read.")
        summary_ensure(document=document, principal=principal, sync=sync)
        return summary_data(document=document, view=document_summary(document=document))

    def render_text(self, result) -> str:
        lines = [f"{result['document']} v{result['version']}: {result['status']}"]
        if result["text"]:
            lines.append(result["text"])
        if result["error"]:
            lines.append(f"error: {result['error']}")
        run = result["run"]
        if run is not None and run["status"] != "ready":
            lines.append(
                f"run: {run['status']}{' (worker lost, will resume)' if run['worker_lost'] else ''}, "
                f"{run['done']}/{run['total']} done"
                + (f", cancelled by {run['cancelled_by']}" if run["cancelled_by"] else "")
            )
        return "\n".join(lines)
