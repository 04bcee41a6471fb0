from citadel.accounts.selectors import organization_by_slug
from citadel.core.commands import JsonCommand
from citadel.gaps.services import gaps_refresh


class Command(JsonCommand):
    help = (
        "Group an organization's unanswered questions into content gaps now (the schedule does it in the background)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")

    def run(self, *, org, **_):
        return gaps_refresh(organization=organization_by_slug(slug=org), force=True)
