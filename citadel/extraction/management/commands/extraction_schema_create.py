"""`manage.py extraction_schema_create FILE.json --org SLUG [--as USERNAME] [--json]`: define the
fields to extract from FILE ({"slug", "title", "fields": [{"name", "type", "guidance", "choices"}]}),
or replace the fields of the schema with that slug. Prints schema_id, slug and fields."""

from citadel.accounts.selectors import organization_by_slug, principal_for_username
from citadel.core.commands import JsonCommand, read_json_file
from citadel.extraction.services import extraction_schema_create


class Command(JsonCommand):
    help = "Create or replace an extraction schema from a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--org", dest="org", required=True, help="Organization slug.")
        parser.add_argument("--as", dest="username", help="The admin defining it (default: the operator).")

    def run(self, *, file, org, username=None, **_):
        organization = organization_by_slug(slug=org)
        data = read_json_file(file)
        principal = principal_for_username(username=username, org_slug=org) if username else None
        schema = extraction_schema_create(organization_id=organization.pk, data=data, principal=principal)
        return {
            "schema_id": schema.pk,
            "slug": schema.slug,
            "title": schema.title,
            "fields": [
                {"name": f.name, "type": f.type, "choices": f.choices, "guidance": f.guidance}
                for f in schema.fields.all()
            ],
        }

    def render_text(self, result) -> str:
        lines = [f"{result['title']} ({result['slug']}): {len(result['fields'])} fields"]
        lines += [f"  {f['name']} [{f['type']}] {f['guidance']}" for f in result["fields"]]
        return "\n".join(lines)
