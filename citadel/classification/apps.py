from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    name = "citadel.classification"
    label = "classification"

    def ready(self) -> None:
        from citadel.classification.models import LabellingRun
        from citadel.classification.services import LABELLING_TASK
        from citadel.jobs.registry import RunKind, run_kind_register

        run_kind_register(RunKind(name="labelling", model=LabellingRun, task=LABELLING_TASK))
