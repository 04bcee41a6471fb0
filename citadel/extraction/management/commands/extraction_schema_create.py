"""`manage.py extraction_schema_create FILE.json --org SLUG [--as USERNAME] [--json]`: define the
fields to extract from FILE ({"slug", "title", "fields": [{"name", "type", "guidance", "choices"}]}),
or replace the fields of the schema with that slug. Prints schema_id, slug and fields."""

from citadel.documents.run_commands import RunDefinitionCommand
from citadel.extraction.models import ExtractionSchema


class Command(RunDefinitionCommand):
    help = "Create or replace an extraction schema from a JSON file."
    model = ExtractionSchema
    part_line = "  {name} [{type}] {guidance}"
