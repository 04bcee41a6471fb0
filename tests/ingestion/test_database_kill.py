"""The database server killed (SIGKILL) in the middle of ingestion and restarted with fresh workers:
every queued document ends ready, or failed with a sentence; none is left `uploaded` or running.

One repetition of tests/database_kill.py, on a PostgreSQL server of its own (the test session's
database is never touched, so no django_db mark); bench/db_kill_ingest.py repeats it. One of the
queued versions is left as a worker leaves it when it dies between claiming the task and claiming
the version: only the reaper's second half (a version still `uploaded` with no task waiting is
queued again) finishes it, as the operator's stuck document needed."""

import pytest

from tests.database_kill import FINISHED, database_kill_cleanup, database_kill_run

DOCUMENTS = 30


@pytest.mark.slow
def test_database_killed_mid_ingestion_every_document_ends_ready_or_failed(tmp_path):
    workdir = tmp_path / "database-kill"
    outcome = database_kill_run(workdir, documents=DOCUMENTS)
    report = outcome.line()

    assert not outcome.error, report
    assert 0 < outcome.at_kill.get("ready", 0) < DOCUMENTS, report  # killed in the middle
    assert outcome.stuck == [], report
    assert sum(outcome.counts.values()) == DOCUMENTS and set(outcome.counts) <= set(FINISHED), report
    assert all(failed["error_message"].strip() for failed in outcome.failed), report
    assert outcome.orphaned is not None and outcome.reaped["versions_resubmitted"] >= 1, report
    database_kill_cleanup(workdir)  # kept when it failed, to read the workers' logs
