"""`manage.py source_sync SOURCE_ID [--sync] [--json]`: sync a source now. Without --sync the sync
is queued for the worker; with it, the sync runs here and so does the ingestion of what it added
or changed. Prints source_id, sync_id, status, added, updated, unchanged, renamed, archived,
failed [item, error], error, started_at, finished_at and run (the sync as every run says itself:
kind, id, status, worker_lost, attempts, done, total, started_at, running_seconds, cancelled_by,
cancelled_at)."""

from citadel.core.commands import JsonCommand
from citadel.core.errors import NotFound
from citadel.documents.models import DocumentVersion
from citadel.ingestion.selectors import pending_attachment_versions
from citadel.ingestion.services import version_run
from citadel.sources.models import Source
from citadel.sources.selectors import acting_admin, sync_data
from citadel.sources.services import source_sync_run, source_sync_start


class Command(JsonCommand):
    help = "Sync a source."

    def add_arguments(self, parser):
        parser.add_argument("source_id", type=int)
        parser.add_argument("--sync", action="store_true", help="Sync and ingest here, and wait.")

    def run(self, *, source_id, sync=False, **_):
        source = Source.objects.filter(pk=source_id).first()
        if source is None:
            raise NotFound(f"No source {source_id}.")
        principal = acting_admin(source=source)
        started = source_sync_start(principal=principal, source_id=source.pk, enqueue=not sync)
        if not sync:
            return sync_data(started)
        result = source_sync_run(sync_id=started.pk, enqueue=False)
        for version_id in result.version_ids:
            version_run(version_id=version_id)
            version = DocumentVersion.objects.select_related("document").get(pk=version_id)
            for attachment in pending_attachment_versions(document=version.document):
                version_run(version_id=attachment.pk)
        return sync_data(result.sync)
