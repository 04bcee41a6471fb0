"""`manage.py report_template_create FILE.json --org SLUG [--as USERNAME] [--json]`: define a
checklist from FILE ({"slug", "title", "items": [{"question", "type", "choices", "guidance"}]}),
or replace the items of the one with that slug. Prints template_id, slug and items."""

from citadel.accounts.selectors import organization_by_slug, principal_for_username
from citadel.core.commands import JsonCommand, read_json_file
from citadel.reports.services import report_template_create


class Command(JsonCommand):
    help = "Create or replace a report template (a checklist) from a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--org", dest="org", required=True, help="Organization slug.")
        parser.add_argument("--as", dest="username", help="The admin defining it (default: the operator).")

    def run(self, *, file, org, username=None, **_):
        organization = organization_by_slug(slug=org)
        data = read_json_file(file)
        principal = principal_for_username(username=username, org_slug=org) if username else None
        template = report_template_create(organization_id=organization.pk, data=data, principal=principal)
        return {
            "template_id": template.pk,
            "slug": template.slug,
            "title": template.title,
            "items": [
                {"n": n, "question": i.question, "type": i.type, "choices": i.choices, "guidance": i.guidance}
                for n, i in enumerate(template.items.all(), start=1)
            ],
        }

    def render_text(self, result) -> str:
        lines = [f"{result['title']} ({result['slug']}): {len(result['items'])} items"]
        lines += [f"  {i['n']}. [{i['type']}] {i['question']}" for i in result["items"]]
        return "\n".join(lines)
