from django.tasks import task

from citadel.answers.services import questions_abandoned_close


@task(queue_name="maintenance")
def answers_close_abandoned() -> int:
    """Periodic: questions whose answering stream died get a failed answer, never a forever spinner."""
    return questions_abandoned_close()
