"""`manage.py source_root_list [ORG] [--json]`: the folders opened to organizations' folder sources
(to ORG's only, when given), each with its organization and when it was granted."""

from citadel.accounts.selectors import organization_by_slug
from citadel.core.commands import JsonCommand
from citadel.sources.selectors import source_root_data, source_roots


class Command(JsonCommand):
    help = "List the folders opened to organizations' folder sources."

    def add_arguments(self, parser):
        parser.add_argument("org", nargs="?")

    def run(self, *, org=None, **_):
        organization_id = organization_by_slug(slug=org).pk if org else None
        return [source_root_data(root) for root in source_roots(organization_id=organization_id)]

    def render_text(self, result) -> str:
        if not result:
            return "No folders are opened to sources."
        return "\n".join(f"{row['organization']}\t{row['path']}" for row in result)
