from django.apps import AppConfig


class SummariesConfig(AppConfig):
    name = "citadel.summaries"
    label = "summaries"

    def ready(self) -> None:
        from citadel.jobs.registry import RunKind, run_kind_register
        from citadel.summaries.models import Summary
        from citadel.summaries.services import SUMMARIZE_TASK

        # A summary is a run: the reaper queues one whose worker was lost again, and its requester
        # or an admin may cancel it (`run_cancel summaries ID`, the Cancel button on its card).
        run_kind_register(RunKind(name="summaries", model=Summary, task=SUMMARIZE_TASK))
