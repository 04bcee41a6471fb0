from django.contrib import admin

from citadel.accounts.admin_base import site
from citadel.documents.run_admin import DocumentRunAdmin, RunDefinitionAdmin
from citadel.extraction.models import Extraction, ExtractionSchema


@admin.register(ExtractionSchema, site=site)
class ExtractionSchemaAdmin(RunDefinitionAdmin):
    """Extraction schemas, each with its fields inline."""


@admin.register(Extraction, site=site)
class ExtractionAdmin(DocumentRunAdmin):
    # Extractions are made by running a schema and checked on their page, never edited here.
    exclude = ["fields"]
