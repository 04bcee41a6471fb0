"""`manage.py audit_verify [--org SLUG] [--json]`: recompute every hash chain.

Exit status 1 when a chain is broken; the report names the first bad event of each broken chain."""

import sys

from citadel.accounts.models import Organization
from citadel.accounts.selectors import organization_by_slug
from citadel.audit.selectors import audit_chain_verify
from citadel.core.commands import JsonCommand
from citadel.trail.selectors import audit_chain_ids


class Command(JsonCommand):
    help = "Verify the audit trail's hash chains (every organization's and the org-less one)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Verify only this organization's chain.")

    def handle(self, *args, **options):
        self.broken = False
        super().handle(*args, **options)
        if self.broken:
            sys.exit(1)

    def run(self, *, org=None, **options):
        if org:
            organization = organization_by_slug(slug=org)
            ids = [organization.pk]
        else:
            ids = audit_chain_ids()
        slugs = dict(Organization.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "slug"))
        chains = []
        for org_id in ids:
            report = audit_chain_verify(organization_id=org_id)
            chains.append(
                {
                    "organization": slugs.get(org_id, "" if org_id is None else f"#{org_id}"),
                    "organization_id": org_id,
                    "events": report.events,
                    "ok": report.ok,
                    "first_bad_event_id": report.first_bad_id,
                    "reason": report.reason,
                }
            )
        self.broken = not all(c["ok"] for c in chains)
        return {"ok": not self.broken, "chains": chains}

    def render_text(self, result) -> str:
        lines = []
        for chain in result["chains"]:
            name = chain["organization"] or "(no organization)"
            if chain["ok"]:
                lines.append(f"ok      {name}: {chain['events']} events")
            else:
                lines.append(f"BROKEN  {name}: first bad event {chain['first_bad_event_id']}: {chain['reason']}")
        lines.append("All chains verify." if result["ok"] else "The audit trail has been tampered with.")
        return "\n".join(lines)
