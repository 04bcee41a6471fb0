"""`manage.py report_run TEMPLATE_SLUG --as USERNAME [--org SLUG] [--document EXTERNAL_ID ...]
[--team NAME] [--label NAME] [--sync] [--json]`: run a checklist over documents as a user (every document they
may read of a team with --team). Without --sync the report is queued for the worker; with it, the
items are answered here. Prints report_id, status (queued | running | needs_review | published |
failed | cancelled), items [n, question, status, value, text, citations], run {kind, id, status,
worker_lost, attempts, done, total, started_at, running_seconds, cancelled_by, cancelled_at} and
url."""

from citadel.documents.run_commands import DocumentRunCommand
from citadel.reports.selectors import READS


class Command(DocumentRunCommand):
    help = "Run a report template over documents."
    reads = READS
    helps = {"team": "Run over the documents of this team instead.", "sync": "Answer the items here and wait."}

    def render_text(self, result) -> str:
        lines = [f"{result['title']}: {result['status']} ({result['url']})"]
        if result["error"]:
            lines.append(f"error: {result['error']}")
        for item in result["items"]:
            value = f" = {item['value']}" if item["value"] else ""
            lines.append(f"  {item['n']}. [{item['status']}] {item['question']}{value}")
        return "\n".join(lines)
