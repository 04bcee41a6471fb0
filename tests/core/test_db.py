"""Search reads can go to a read replica; everything else stays on the primary."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from citadel.core.db import ReplicaRouter, search_connection, search_reads
from citadel.ops.models import TaskOrigin

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"


def test_without_a_replica_search_uses_the_primary(db):
    assert search_connection().alias == "default"


def test_the_router_sends_only_search_reads_to_a_configured_replica(monkeypatch):
    monkeypatch.setattr("citadel.core.db.replica_configured", lambda: True)
    router = ReplicaRouter()

    assert router.db_for_read(TaskOrigin) == "default"
    with search_reads():
        assert router.db_for_read(TaskOrigin) == "replica"
        assert router.db_for_write(TaskOrigin) == "default"
    assert router.db_for_read(TaskOrigin) == "default"
    assert router.allow_migrate("replica", "ops") is False and router.allow_migrate("default", "ops") is True


@pytest.mark.slow
def test_database_replica_url_adds_a_replica_that_search_reads_from(child_env):
    # Given DATABASE_REPLICA_URL (here: the same database, standing in for a streaming replica)
    env = child_env | {"DATABASE_REPLICA_URL": child_env["DATABASE_URL"], "CITADEL_DB_POOL": "1"}
    script = (
        "import json; from django.conf import settings; from citadel.core.db import search_connection\n"
        "c = search_connection(); cur = c.cursor(); cur.execute('SELECT current_database()')\n"
        "print(json.dumps({'alias': c.alias, 'db': cur.fetchone()[0], 'routers': settings.DATABASE_ROUTERS,"
        " 'pool': settings.DATABASES['default']['OPTIONS'].get('pool')}))"
    )

    out = subprocess.run(
        [sys.executable, str(MANAGE), "shell", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )

    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["alias"] == "replica"
    assert result["db"] == connection.settings_dict["NAME"]
    assert result["routers"] == ["citadel.core.db.ReplicaRouter"]
    assert result["pool"] == {"min_size": 2, "max_size": 10, "timeout": 10}
