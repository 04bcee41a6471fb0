from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "citadel.sources"
    label = "sources"

    def ready(self) -> None:
        from citadel.jobs.registry import RunKind, run_kind_register
        from citadel.sources.models import SourceSync
        from citadel.sources.services import SYNC_TASK

        # A sync is a run: the reaper queues one whose worker was lost again, and it resumes (what
        # it recorded is unchanged the second time, nothing to undo); its requester or an admin
        # may cancel it (`run_cancel source_syncs ID`, the Cancel button on the source's page).
        run_kind_register(RunKind(name="source_syncs", model=SourceSync, task=SYNC_TASK))
