"""The retention purge blanks raw content past each organization's retention and nothing else."""

import json
from io import StringIO

from django.core.management import call_command

from citadel.audit.models import AuditEvent, PromptLog
from citadel.audit.selectors import audit_chain_verify
from citadel.audit.services import prompt_logs_purge
from citadel.audit.tasks import prompt_logs_purge_task
from tests.factories import make_prompt_log


def _set_retention(org, days):
    org.prompt_log_retention_days = days
    org.save(update_fields=["prompt_log_retention_days"])


def test_purge_blanks_raw_content_past_retention_and_keeps_metadata(world):
    acme = world.org("acme")
    _set_retention(acme, 30)
    old = make_prompt_log(acme, days_ago=31, prompt="old prompt", output="old output")
    recent = make_prompt_log(acme, days_ago=29, prompt="recent prompt", output="recent output")

    purged = prompt_logs_purge()

    old.refresh_from_db()
    recent.refresh_from_db()
    assert purged == {acme.pk: 1}
    assert (old.prompt_text, old.output_text) == ("", "")
    assert old.content_purged_at is not None
    assert (old.tokens_in, old.retrieved_chunk_ids, old.cited_chunk_ids, old.status, old.latency_ms) == (
        120,
        [1, 2],
        [2],
        "ok",
        250,
    )
    assert (recent.prompt_text, recent.output_text, recent.content_purged_at) == (
        "recent prompt",
        "recent output",
        None,
    )


def test_each_organization_keeps_its_own_retention(world):
    acme, globex = world.org("acme"), world.org("globex")
    _set_retention(acme, 7)
    _set_retention(globex, 365)
    acme_log = make_prompt_log(acme, days_ago=40, prompt="a")
    globex_log = make_prompt_log(globex, days_ago=40, prompt="g")

    prompt_logs_purge()

    assert PromptLog.objects.get(pk=acme_log.pk).prompt_text == ""
    assert PromptLog.objects.get(pk=globex_log.pk).prompt_text == "g"


def test_one_logs_purged_event_per_organization_with_the_count(world):
    acme = world.org("acme")
    _set_retention(acme, 1)
    for _ in range(3):
        make_prompt_log(acme, days_ago=5, prompt="p", output="o")
    make_prompt_log(acme, days_ago=5)  # metadata-only: nothing to purge, not counted

    prompt_logs_purge()

    events = AuditEvent.objects.filter(organization=acme, verb="logs.purged")
    assert [e.metadata["rows"] for e in events] == [3]
    assert events[0].metadata["retention_days"] == 1
    assert audit_chain_verify(organization_id=acme.pk).ok


def test_purging_again_changes_nothing_and_records_nothing(world):
    acme = world.org("acme")
    _set_retention(acme, 1)
    log = make_prompt_log(acme, days_ago=5, prompt="p")
    prompt_logs_purge()
    first_purge = PromptLog.objects.get(pk=log.pk).content_purged_at

    assert prompt_logs_purge() == {}
    assert PromptLog.objects.get(pk=log.pk).content_purged_at == first_purge
    assert AuditEvent.objects.filter(organization=acme, verb="logs.purged").count() == 1


def test_the_maintenance_task_and_the_command_run_the_same_purge(world):
    acme = world.org("acme")
    _set_retention(acme, 1)
    make_prompt_log(acme, days_ago=5, prompt="p")
    make_prompt_log(acme, days_ago=6, prompt="p")

    result = prompt_logs_purge_task.enqueue()
    assert result.return_value == 2
    assert prompt_logs_purge_task.queue_name == "maintenance"

    make_prompt_log(acme, days_ago=5, prompt="p")
    out = StringIO()
    call_command("purge_prompt_logs", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"purged": {"acme": 1}, "total": 1}


def test_workers_serving_maintenance_schedule_the_purge():
    from citadel.ops.schedule import MAINTENANCE, serves_maintenance

    assert "citadel.audit.tasks.prompt_logs_purge_task" in {entry.task for entry in MAINTENANCE}
    assert serves_maintenance("*")
    assert serves_maintenance("default,maintenance")
    assert not serves_maintenance("ingestion")
    assert not serves_maintenance("*", "maintenance")
