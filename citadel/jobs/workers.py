"""Which worker this process is: `manage.py worker` names itself (its heartbeat's id); any other
process running tasks (a test, RQ, `--sync`) is named by host and pid and has no heartbeat, so
its runs are taken over once their lease expires."""

import os
import socket

_worker_id: str | None = None


def worker_id_set(worker_id: str | None) -> None:
    global _worker_id
    _worker_id = worker_id


def current_worker_id() -> str:
    return _worker_id or f"{socket.gethostname()}:{os.getpid()}"[:64]
