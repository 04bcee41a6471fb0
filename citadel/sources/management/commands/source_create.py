"""`manage.py source_create KIND --org SLUG --name NAME --config FILE.json [--as USERNAME] [--json]`:
add a source (KIND: folder, s3, imap or web). The config holds the kind's settings ({"path": ...}
for a folder; the README lists each kind's), "permissions" ([{"match": "legal/**", "teams":
["Legal"], "users": []}], first match wins), "permissions_from" (the source's own permissions),
"default_audience" ("organization" or "admins") and "freshness" ([{"match": "hr/**", "owner_team": "HR",
"review_every_days": 365}], first match wins: the owner and review-by date of the documents it brings). Secrets in it are sealed and never printed. The source acts as --as, an admin, or else as
the organization's longest-standing admin. Prints source_id, kind and name."""

from citadel.accounts.selectors import organization_by_slug, principal_for_username
from citadel.core.commands import JsonCommand, read_json_file
from citadel.sources.selectors import first_admin
from citadel.sources.services import source_create


class Command(JsonCommand):
    help = "Add a source whose documents Citadel keeps in sync."

    def add_arguments(self, parser):
        parser.add_argument("kind")
        parser.add_argument("--org", dest="org", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--config", required=True, help="A JSON file with the source's settings.")
        parser.add_argument("--as", dest="username", help="The admin adding it.")

    def run(self, *, kind, org, name, config, username=None, **_):
        organization = organization_by_slug(slug=org)
        principal = (
            principal_for_username(username=username, org_slug=org)
            if username
            else first_admin(organization_id=organization.pk)
        )
        source = source_create(principal=principal, kind=kind, name=name, config=read_json_file(config))
        return {"source_id": source.pk, "kind": source.kind, "name": source.name}
