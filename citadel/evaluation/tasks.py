from django.tasks import task

from citadel.evaluation import services


@task(queue_name="default")
def eval_run_task(run_id: int) -> None:
    services.eval_run_execute(run_id=run_id)
