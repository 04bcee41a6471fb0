"""console_refresh --org SLUG --json: the owners' console now, as the maintenance schedule computes
it in the background: the usage rollups (citadel.console) and the content gaps (citadel.gaps).
It lives in ops because the two apps sit side by side in the layers and may not import each other."""

from citadel.accounts.selectors import organization_by_slug
from citadel.console.services import console_refresh
from citadel.core.commands import JsonCommand
from citadel.gaps.services import gaps_refresh


class Command(JsonCommand):
    help = "Compute an organization's console figures and content gaps now (the schedule does it in the background)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")

    def run(self, *, org, **_):
        organization = organization_by_slug(slug=org)
        return {
            "usage": console_refresh(organization=organization),
            "gaps": gaps_refresh(organization=organization, force=True),
        }
