"""`manage.py source_root_grant ORG PATH [--json]`: the operator opens a folder to an organization's
folder sources (a folder source's path must resolve inside one of its roots). Refused: Citadel's
data dir, its stored originals, its code, the system's folders, a folder holding any of them, and a
folder overlapping another organization's root. Audited in the organization's trail. Prints the
organization, the resolved path and when it was granted."""

from citadel.accounts.selectors import organization_by_slug
from citadel.core.commands import JsonCommand
from citadel.sources.selectors import source_root_data
from citadel.sources.services import source_root_grant


class Command(JsonCommand):
    help = "Open a folder to an organization's folder sources."

    def add_arguments(self, parser):
        parser.add_argument("org")
        parser.add_argument("path")

    def run(self, *, org, path, **_):
        organization = organization_by_slug(slug=org)
        return source_root_data(source_root_grant(organization_id=organization.pk, path=path))
