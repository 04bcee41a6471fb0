from django.apps import AppConfig
from django.urls import reverse


class ExtractionConfig(AppConfig):
    name = "citadel.extraction"
    label = "extraction"

    def ready(self) -> None:
        from citadel.extraction.models import Extraction
        from citadel.extraction.services import EXECUTE_TASK
        from citadel.jobs.registry import RunKind, RunNotice, run_kind_register
        from citadel.notifications.models import NotificationKind

        # A run resumes with the next document: the rows already written stand, nothing to undo.
        run_kind_register(
            RunKind(
                name="extractions",
                model=Extraction,
                task=EXECUTE_TASK,
                notice=RunNotice(
                    kinds={
                        "needs_review": NotificationKind.EXTRACTION_READY,
                        "ready": NotificationKind.EXTRACTION_READY,
                    },
                    states="extraction",
                    name=lambda extraction: f"Extraction “{extraction.title}”",
                    url=lambda extraction: reverse("extraction:detail", args=[extraction.pk]),
                ),
            )
        )
