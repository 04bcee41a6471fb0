"""`manage.py versions_cleanup --org SLUG [--older-than-days N] [--json]`: run the lifecycle cleanup
(citadel.ingestion.cleanup) for one organization now, in-process: the chunks, vectors and lexical
entries of versions superseded more than N days ago (default: the organization's retention window,
Organization.version_retention_days) and the vectors of embedding models it switched away from as
long ago. The version rows and answers' quotes stay. Prints organization, older_than_days, cutoff,
chunks, vectors (all vectors deleted), versions (whose index content went), retired_models,
retired_model_vectors, batches and skipped (another run held the organization)."""

from citadel.accounts.selectors import organization_by_slug
from citadel.core.commands import JsonCommand
from citadel.core.errors import InvalidInput
from citadel.ingestion.cleanup import versions_cleanup


class Command(JsonCommand):
    help = "Delete the index content of superseded versions and retired embedding models now."

    def add_arguments(self, parser):
        parser.add_argument("--org", dest="org", required=True, help="Organization slug.")
        parser.add_argument(
            "--older-than-days",
            dest="older_than_days",
            type=int,
            help="Versions superseded more than this many days ago (default: the organization's retention).",
        )

    def run(self, *, org, older_than_days=None, **_):
        if older_than_days is not None and older_than_days < 0:
            raise InvalidInput("--older-than-days cannot be negative.")
        organization = organization_by_slug(slug=org)
        return versions_cleanup(organization=organization, older_than_days=older_than_days).as_dict()

    def render_text(self, result) -> str:
        if result["skipped"]:
            return f"{result['organization']}: another cleanup is running; nothing done."
        return (
            f"{result['organization']}: {result['chunks']} chunks and {result['vectors']} vectors deleted "
            f"({result['versions']} versions superseded before {result['cutoff']}"
            + (f"; retired models: {', '.join(result['retired_models'])}" if result["retired_models"] else "")
            + ")."
        )
