from django.apps import AppConfig


class ExtractionConfig(AppConfig):
    name = "citadel.extraction"
    label = "extraction"

    def ready(self) -> None:
        from citadel.extraction.models import Extraction
        from citadel.extraction.services import EXECUTE_TASK
        from citadel.jobs.registry import RunKind, run_kind_register

        # A run resumes with the next document: the rows already written stand, nothing to undo.
        run_kind_register(RunKind(name="extractions", model=Extraction, task=EXECUTE_TASK))
