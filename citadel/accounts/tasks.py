from django.tasks import task

from citadel.accounts import services


@task(queue_name="default")
def break_glass_notify(access_id: int) -> int:
    return services.break_glass_notify(access_id=access_id)
