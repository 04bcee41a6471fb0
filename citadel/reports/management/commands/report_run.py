"""`manage.py report_run TEMPLATE_SLUG --as USERNAME [--org SLUG] [--document EXTERNAL_ID ...]
[--team NAME] [--label NAME] [--sync] [--json]`: run a checklist over documents as a user (every document they
may read of a team with --team). Without --sync the report is queued for the worker; with it, the
items are answered here. Prints report_id, status (queued | running | needs_review | published |
failed), items [n, question, status, value, text, citations] and url."""

from django.conf import settings

from citadel.accounts.selectors import principal_for_username
from citadel.core.commands import JsonCommand
from citadel.documents.selectors import external_document_ids, team_named
from citadel.reports.selectors import get_report, report_data
from citadel.reports.services import report_execute, report_start


class Command(JsonCommand):
    help = "Run a report template over documents."

    def add_arguments(self, parser):
        parser.add_argument("template_slug")
        parser.add_argument("--as", dest="username", required=True, help="Username of the runner.")
        parser.add_argument("--org", dest="org", help="Organization slug (needed when the user has several).")
        parser.add_argument(
            "--document", dest="documents", action="append", default=[], help="External id (repeatable)."
        )
        parser.add_argument("--team", help="Run over the documents of this team instead.")
        parser.add_argument("--label", help="Run over the documents with this label instead.")
        parser.add_argument("--sync", action="store_true", help="Answer the items here and wait.")

    def run(self, *, template_slug, username, org=None, documents=(), team=None, label=None, sync=False, **_):
        principal = principal_for_username(username=username, org_slug=org)
        team_id = team_named(principal=principal, name=team) if team else None
        document_ids = external_document_ids(principal=principal, external_ids=list(documents))
        report = report_start(
            principal=principal,
            template_slug=template_slug,
            document_ids=document_ids,
            team_id=team_id,
            label=label,
            enqueue=not sync,
        )
        if sync:
            report_execute(report_id=report.pk)
        report = get_report(principal=principal, report_id=report.pk)
        return report_data(principal=principal, report=report, site_url=settings.CITADEL.get("SITE_URL", ""))

    def render_text(self, result) -> str:
        lines = [f"{result['title']}: {result['status']} ({result['url']})"]
        if result["error"]:
            lines.append(f"error: {result['error']}")
        for item in result["items"]:
            value = f" = {item['value']}" if item["value"] else ""
            lines.append(f"  {item['n']}. [{item['status']}] {item['question']}{value}")
        return "\n".join(lines)
