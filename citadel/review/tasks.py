from django.tasks import task

from citadel.review import notifications


@task(queue_name="default")
def review_notify_decision(item_id: int) -> int:
    return notifications.notify_decision(item_id=item_id)


@task(queue_name="default")
def review_notify_escalation(item_id: int) -> int:
    return notifications.notify_escalation(item_id=item_id)


@task(queue_name="default")
def review_notify_assigned(item_id: int) -> int:
    return notifications.notify_assigned(item_id=item_id)
