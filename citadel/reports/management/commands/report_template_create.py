"""`manage.py report_template_create FILE.json --org SLUG [--as USERNAME] [--json]`: define a
checklist from FILE ({"slug", "title", "items": [{"question", "type", "choices", "guidance"}]}),
or replace the items of the one with that slug. Prints template_id, slug and items."""

from citadel.documents.run_commands import RunDefinitionCommand
from citadel.reports.models import ReportTemplate


class Command(RunDefinitionCommand):
    help = "Create or replace a report template (a checklist) from a JSON file."
    model = ReportTemplate
    numbered = True
    part_line = "  {n}. [{type}] {question}"
