from django.tasks import task

from citadel.notifications import services


@task(queue_name="default")
def notification_email(notification_id: int) -> int:
    return services.notification_email_send(notification_id=notification_id)
