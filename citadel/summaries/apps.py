from django.apps import AppConfig
from django.urls import reverse


class SummariesConfig(AppConfig):
    name = "citadel.summaries"
    label = "summaries"

    def ready(self) -> None:
        from citadel.jobs.registry import RunKind, RunNotice, run_kind_register
        from citadel.notifications.models import NotificationKind
        from citadel.summaries.models import Summary
        from citadel.summaries.services import SUMMARIZE_TASK

        # A summary is a run: the reaper queues one whose worker was lost again, and its requester
        # or an admin may cancel it (`run_cancel summaries ID`, the Cancel button on its card).
        run_kind_register(
            RunKind(
                name="summaries",
                model=Summary,
                task=SUMMARIZE_TASK,
                notice=RunNotice(
                    kinds={"ready": NotificationKind.SUMMARY_READY},
                    states="summary",
                    name=lambda summary: f"Summary of “{summary.document.title}”",
                    url=lambda summary: reverse("documents:detail", args=[summary.document_id]),
                ),
            )
        )
