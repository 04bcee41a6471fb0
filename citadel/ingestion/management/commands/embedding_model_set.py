"""`manage.py embedding_model_set MODEL --org SLUG [--sync] [--json]`: switch an organization to
another embedding model (`all-MiniLM-L6-v2`, `all-MiniLM-L6-v2-int8`, `openai:NAME@DIMENSIONS`,
`st:/path/to/model`). Its chunks are embedded again beside the old vectors, which keep serving until
the switch, in one transaction; the worker does it, or this command with --sync. Prints change_id,
from_model, to_model, status, chunks_total and chunks_done."""

from citadel.accounts.selectors import organization_by_slug
from citadel.core.commands import JsonCommand
from citadel.ingestion.reembedding import embedding_model_change_request, embedding_model_change_run


class Command(JsonCommand):
    help = "Switch an organization to another embedding model (a re-embed)."

    def add_arguments(self, parser):
        parser.add_argument("model")
        parser.add_argument("--org", dest="org", required=True)
        parser.add_argument("--sync", action="store_true", help="Re-embed here and return when switched.")

    def run(self, *, model, org, sync=False, **_):
        organization = organization_by_slug(slug=org)
        change = embedding_model_change_request(organization=organization, model_name=model)
        if sync:
            embedding_model_change_run(change_id=change.pk)
            change.refresh_from_db()
        return {
            "change_id": change.pk,
            "from_model": change.from_model,
            "to_model": change.to_model,
            "status": change.status,
            "chunks_total": change.chunks_total,
            "chunks_done": change.chunks_done,
        }
