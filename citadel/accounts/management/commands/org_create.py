from citadel.accounts.services import organization_create
from citadel.core.commands import JsonCommand


class Command(JsonCommand):
    help = "Create an organization."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="")

    def run(self, *, slug, name, **_):
        org = organization_create(slug=slug, name=name)
        return {"id": org.pk, "slug": org.slug, "name": org.name}

    def render_text(self, result) -> str:
        return f"Created organization {result['slug']} ({result['name']})."
