from citadel.accounts.selectors import organization_by_slug
from citadel.accounts.services import user_create_or_join
from citadel.core.commands import JsonCommand
from citadel.core.principal import Role


class Command(JsonCommand):
    help = "Create a user in an organization, or add an existing user to another organization."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--org", required=True)
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--password", default=None)
        parser.add_argument("--email", default="")
        parser.add_argument("--team", action="append", default=[], dest="teams")

    def run(self, *, username, org, role, password, email, teams, **_):
        organization = organization_by_slug(slug=org)
        user, membership = user_create_or_join(
            username=username, organization=organization, role=role, password=password, teams=teams, email=email
        )
        return {
            "id": user.pk,
            "username": user.username,
            "organization": organization.slug,
            "role": membership.role,
            "teams": sorted(t.name for t in membership.teams.all()),
        }

    def render_text(self, result) -> str:
        return f"{result['username']} is {result['role']} in {result['organization']}."
