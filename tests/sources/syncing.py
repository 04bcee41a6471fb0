"""A sync as the worker runs it, with the ingestion of what it uploaded (attachments included)."""

from citadel.documents.models import DocumentVersion
from citadel.ingestion.selectors import pending_attachment_versions
from citadel.ingestion.services import version_run
from citadel.sources.models import SourceSync
from citadel.sources.services import source_sync_run, source_sync_start


def sync(admin, source) -> SourceSync:
    queued = source_sync_start(principal=admin, source_id=source.pk, enqueue=False)
    result = source_sync_run(sync_id=queued.pk, enqueue=False)
    for version_id in result.version_ids:
        version_run(version_id=version_id)
        for attachment in pending_attachment_versions(document=DocumentVersion.objects.get(pk=version_id).document):
            version_run(version_id=attachment.pk)
    return result.sync
