"""`manage.py extract SCHEMA_SLUG --as USERNAME [--org SLUG] [--document EXTERNAL_ID ...]
[--team NAME] [--label NAME] [--sync] [--json]`: read a schema's fields out of documents as a user (every
document they may read of a team with --team). Without --sync the extraction is queued for the
worker. Prints extraction_id, status (queued | running | needs_review | ready | failed | cancelled),
rows [document, values {field: {value, confidence, status, citation | null}}] and run {kind, id,
status, worker_lost, attempts, done, total, started_at, running_seconds, cancelled_by,
cancelled_at}."""

from citadel.documents.run_commands import DocumentRunCommand
from citadel.extraction.selectors import READS


class Command(DocumentRunCommand):
    help = "Extract a schema's fields from documents into a table."
    reads = READS
    helps = {"team": "Extract from the documents of this team instead.", "sync": "Read the values here and wait."}

    def render_text(self, result) -> str:
        names = [f["name"] for f in result["fields"]]
        lines = [f"{result['title']}: {result['status']} ({result['url']})", "\t".join(["document", *names])]
        for row in result["rows"]:
            lines.append(
                "\t".join([row["document"], *((row["values"].get(n) or {}).get("value") or "" for n in names)])
            )
        return "\n".join(lines)
