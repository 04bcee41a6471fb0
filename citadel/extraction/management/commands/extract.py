"""`manage.py extract SCHEMA_SLUG --as USERNAME [--org SLUG] [--document EXTERNAL_ID ...]
[--team NAME] [--label NAME] [--sync] [--json]`: read a schema's fields out of documents as a user (every
document they may read of a team with --team). Without --sync the extraction is queued for the
worker. Prints extraction_id, status (queued | running | needs_review | ready | failed) and rows
[document, values {field: {value, confidence, status, citation | null}}]."""

from django.conf import settings

from citadel.accounts.selectors import principal_for_username
from citadel.core.commands import JsonCommand
from citadel.documents.selectors import external_document_ids, team_named
from citadel.extraction.selectors import extraction_data, get_extraction
from citadel.extraction.services import extraction_execute, extraction_start


class Command(JsonCommand):
    help = "Extract a schema's fields from documents into a table."

    def add_arguments(self, parser):
        parser.add_argument("schema_slug")
        parser.add_argument("--as", dest="username", required=True, help="Username of the runner.")
        parser.add_argument("--org", dest="org", help="Organization slug (needed when the user has several).")
        parser.add_argument(
            "--document", dest="documents", action="append", default=[], help="External id (repeatable)."
        )
        parser.add_argument("--team", help="Extract from the documents of this team instead.")
        parser.add_argument("--label", help="Run over the documents with this label instead.")
        parser.add_argument("--sync", action="store_true", help="Read the values here and wait.")

    def run(self, *, schema_slug, username, org=None, documents=(), team=None, label=None, sync=False, **_):
        principal = principal_for_username(username=username, org_slug=org)
        extraction = extraction_start(
            principal=principal,
            schema_slug=schema_slug,
            document_ids=external_document_ids(principal=principal, external_ids=list(documents)),
            team_id=team_named(principal=principal, name=team) if team else None,
            label=label,
            enqueue=not sync,
        )
        if sync:
            extraction_execute(extraction_id=extraction.pk)
        extraction = get_extraction(principal=principal, extraction_id=extraction.pk)
        return extraction_data(
            principal=principal, extraction=extraction, site_url=settings.CITADEL.get("SITE_URL", "")
        )

    def render_text(self, result) -> str:
        names = [f["name"] for f in result["fields"]]
        lines = [f"{result['title']}: {result['status']} ({result['url']})", "\t".join(["document", *names])]
        for row in result["rows"]:
            lines.append(
                "\t".join([row["document"], *((row["values"].get(n) or {}).get("value") or "" for n in names)])
            )
        return "\n".join(lines)
