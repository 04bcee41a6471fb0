"""The benchmarks' PostgreSQL: the embedded server of CITADEL_DATA_DIR, sized like a real one."""

import os
import sys

from django.conf import settings
from django.db import connection


def ensure_shared_buffers(wanted: str, log=print) -> None:
    """The embedded server starts with 128MB of shared buffers, far below a large corpus's tables
    and indexes; a production server holding them would be given more, so a benchmark sets it
    (ALTER SYSTEM) and re-runs itself once after a restart. '' keeps the server as it is."""
    if not wanted:
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_bytes(current_setting('shared_buffers')) >= pg_size_bytes(%s)", [wanted])
        if cur.fetchone()[0]:
            return
        cur.execute(f"ALTER SYSTEM SET shared_buffers = '{wanted}'")
    connection.close()
    from config.database import stop_embedded

    stop_embedded(settings.DATA_DIR)
    log(f"shared_buffers set to {wanted}; restarting")
    os.execv(sys.executable, [sys.executable, *sys.argv])  # noqa: S606 (re-run this script as it was started)
