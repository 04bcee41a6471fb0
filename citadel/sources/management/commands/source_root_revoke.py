"""`manage.py source_root_revoke ORG PATH [--json]`: close a folder opened to an organization. The
next sync of a source inside it fails with a sentence and pauses the source; documents it brought
in stay until an admin removes them. Audited. Prints the root revoked."""

from citadel.accounts.selectors import organization_by_slug
from citadel.core.commands import JsonCommand
from citadel.sources.selectors import source_root_data
from citadel.sources.services import source_root_revoke


class Command(JsonCommand):
    help = "Close a folder opened to an organization's folder sources."

    def add_arguments(self, parser):
        parser.add_argument("org")
        parser.add_argument("path")

    def run(self, *, org, path, **_):
        organization = organization_by_slug(slug=org)
        root = source_root_revoke(organization_id=organization.pk, path=path)
        return source_root_data(root)
