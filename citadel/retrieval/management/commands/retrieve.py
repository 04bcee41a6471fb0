from citadel.accounts.selectors import principal_for_username
from citadel.core.commands import JsonCommand
from citadel.retrieval.services import search_recorded


class Command(JsonCommand):
    help = "Rank the passages USERNAME may read for QUERY (hybrid dense + BM25, permission-filtered)."

    def add_arguments(self, parser):
        parser.add_argument("query")
        parser.add_argument("--as", dest="username", required=True, help="Act as this user.")
        parser.add_argument("--org", help="Organization slug (needed when the user belongs to several).")
        parser.add_argument("--k", type=int, default=10, help="How many passages (default 10).")

    def run(self, **options):
        principal = principal_for_username(username=options["username"], org_slug=options.get("org"))
        hits = search_recorded(principal=principal, query=options["query"], k=options["k"], channel="command").hits
        return [
            {
                "chunk_id": h.chunk_id,
                "document_id": h.document_id,
                "external_id": h.external_id,
                "title": h.title,
                "version": h.version,
                "page": h.page,
                "locator": h.locator,
                "score": h.score,
            }
            for h in hits
        ]

    def render_text(self, result) -> str:
        if not result:
            return "No passages found."
        return "\n".join(
            f"{n:>2}. {r['score']:.4f}  {r['title']} (v{r['version']}"
            f"{', ' + r['locator'] if r['locator'] else ''})  [{r['external_id']} #{r['chunk_id']}]"
            for n, r in enumerate(result, start=1)
        )
