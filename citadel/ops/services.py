import os
import socket

from django.utils import timezone

from citadel.ops.models import WorkerHeartbeat


def worker_heartbeat_beat(*, worker_id: str, queues: str, current_task_id: str = "") -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "queues": queues,
            "last_seen_at": now,
            "current_task_id": current_task_id,
        },
        create_defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "queues": queues,
            "started_at": now,
            "last_seen_at": now,
            "current_task_id": current_task_id,
        },
    )


def worker_heartbeat_remove(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
