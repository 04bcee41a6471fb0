from django.apps import AppConfig
from django.urls import reverse


class EvaluationConfig(AppConfig):
    name = "citadel.evaluation"
    label = "evaluation"

    def ready(self) -> None:
        from citadel.evaluation.models import EvalRun
        from citadel.evaluation.services import EXECUTE_TASK, eval_run_reset
        from citadel.jobs.registry import RunKind, RunNotice, run_kind_register
        from citadel.notifications.models import NotificationKind

        # An evaluation run is a run: the reaper queues one whose worker was lost again, and it
        # starts again from its first question (its partial results deleted); who started it or an
        # admin may cancel it (`run_cancel evaluation_runs ID`, the Cancel button on its page).
        run_kind_register(
            RunKind(
                name="evaluation_runs",
                model=EvalRun,
                task=EXECUTE_TASK,
                reset=eval_run_reset,
                notice=RunNotice(
                    kinds={"done": NotificationKind.EVALUATION_DONE},
                    states="evaluation",
                    name=lambda run: f"Evaluation run of “{run.eval_set.name}”",
                    url=lambda run: reverse("evaluation:run_detail", args=[run.pk]),
                ),
            )
        )
