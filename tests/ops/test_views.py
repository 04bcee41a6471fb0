"""The operations page: admins see their organization, staff see all, members nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from citadel.audit.models import AuditEvent
from citadel.audit.prompt_logs import prompt_log_record
from citadel.core import context
from citadel.ops.models import TaskOrigin
from citadel.ops.tasks import canary


def failed_task(org, key: str) -> DBTaskResult:
    with context.bind(organization_id=org.pk):
        result = canary.enqueue(key)
    row = DBTaskResult.objects.get(pk=result.id)
    row.set_failed(RuntimeError("provider down"))
    return row


def spend(org, usd: str, days_ago: int = 0) -> None:
    start = timezone.now() - timedelta(days=days_ago)
    prompt_log_record(
        organization=org,
        user_id=None,
        feature="answer",
        provider="openai",
        model="gpt-4o-mini",
        started_at=start,
        finished_at=start + timedelta(milliseconds=300),
        status="ok",
        cost_usd=Decimal(usd),
    )


@pytest.fixture
def tenants(world, db_queue):
    acme, globex = world.org("acme"), world.org("globex")
    return {
        "acme": acme,
        "globex": globex,
        "acme_task": failed_task(acme, "acme-key"),
        "globex_task": failed_task(globex, "globex-key"),
    }


def test_a_member_may_not_open_the_operations_page(client, world, login):
    member = world.user("mia", "acme", role="member")

    assert login(member).get("/ops/").status_code == 403


def test_an_organization_admin_sees_only_their_tasks_and_costs(client, world, login, tenants, fresh_worker):
    # Given failed tasks and model spend in two organizations
    spend(tenants["acme"], "1.500000")
    spend(tenants["globex"], "0.250000", days_ago=1)
    admin = world.user("gail", "globex", role="admin")

    # When globex's admin opens the page
    response = login(admin).get("/ops/")

    # Then they see globex's failed task and cost, and nothing of acme's
    assert response.status_code == 200
    page = response.content.decode()
    assert str(tenants["globex_task"].pk) in page
    assert str(tenants["acme_task"].pk) not in page
    assert "$0.2500" in page and "1.5000" not in page
    assert "acme" not in page
    assert [str(t.id) for t in response.context["failed"]] == [str(tenants["globex_task"].pk)]
    assert response.context["queue_depths"] == {"default": 0, "ingestion": 0, "answers": 0, "maintenance": 0}
    assert "<svg" in page and "<rect" in page
    assert "host-a" in page  # worker heartbeats


def test_staff_see_every_organization(client, world, login, tenants):
    spend(tenants["acme"], "1.500000")
    spend(tenants["globex"], "0.250000")
    staff = world.user("sam", "acme", role="member")
    staff.is_staff = True
    staff.save()

    response = login(staff).get("/ops/")

    page = response.content.decode()
    assert str(tenants["globex_task"].pk) in page and str(tenants["acme_task"].pk) in page
    assert "$1.7500" in page
    legend = [entry["organization"] for entry in response.context["chart"]["legend"]]
    assert legend == ["acme", "globex"]


def test_a_running_task_whose_worker_went_silent_is_shown_stuck(client, world, login, db_queue, fresh_worker):
    org = world.org("acme")
    with context.bind(organization_id=org.pk):
        alive, dead = canary.enqueue("alive"), canary.enqueue("dead")
    DBTaskResult.objects.get(pk=alive.id).claim("worker-alive")
    DBTaskResult.objects.get(pk=dead.id).claim("worker-gone")

    response = login(world.user("ada", "acme", role="admin")).get("/ops/")

    stuck = {t.id: t.stuck for t in response.context["running"]}
    assert stuck == {str(alive.id): False, str(dead.id): True}
    page = response.content.decode()
    assert '>Stuck</span> <span class="muted">no heartbeat for' in page


def test_retry_enqueues_the_same_task_again_and_records_it(client, world, login, tenants):
    admin = world.user("gail", "globex", role="admin")
    old = tenants["globex_task"]

    response = login(admin).post(f"/ops/tasks/{old.pk}/retry/")

    assert response.status_code == 302
    new = DBTaskResult.objects.exclude(pk__in=[old.pk, tenants["acme_task"].pk]).get()
    assert (new.task_path, new.args_kwargs, new.status) == (old.task_path, old.args_kwargs, "READY")
    assert TaskOrigin.objects.get(task_id=str(old.pk)).retried_as == str(new.pk)
    assert TaskOrigin.objects.get(task_id=str(new.pk)).organization == tenants["globex"]
    event = AuditEvent.objects.get(verb="ops.task_retried")
    assert (event.organization_id, event.actor_id, event.target_id) == (tenants["globex"].pk, admin.pk, str(old.pk))
    # And the failed list no longer offers it
    assert client.get("/ops/").context["failed"] == []


def test_retrying_twice_enqueues_once(client, world, login, tenants):
    admin = login(world.user("gail", "globex", role="admin"))
    url = f"/ops/tasks/{tenants['globex_task'].pk}/retry/"

    admin.post(url)
    response = admin.post(url, follow=True)

    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert "already been retried" in response.content.decode()


def test_an_admin_cannot_retry_another_organizations_task(client, world, login, tenants):
    admin = login(world.user("gail", "globex", role="admin"))

    response = admin.post(f"/ops/tasks/{tenants['acme_task'].pk}/retry/", follow=True)

    assert "No such task." in response.content.decode()
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert TaskOrigin.objects.get(task_id=str(tenants["acme_task"].pk)).retried_as == ""


def test_a_malformed_task_id_is_a_clear_error(client, world, login, db_queue):
    admin = login(world.user("ada", "acme", role="admin"))

    response = admin.post("/ops/tasks/not-a-uuid/retry/", follow=True)

    assert response.status_code == 200 and "No such task." in response.content.decode()


def test_the_live_section_refreshes_as_a_partial(client, world, login, db_queue):
    admin = login(world.user("ada", "acme", role="admin"))

    response = admin.get("/ops/", HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="ops-live"') and "<html" not in page


def test_provider_breakers_are_read_from_the_cache(client, world, login, db_queue):
    from citadel.providers.resilience import CircuitBreaker

    org = world.org("acme")
    org.generation_provider = "openai"
    org.save()
    breaker = CircuitBreaker("openai:default")
    for _ in range(breaker.threshold):
        breaker.record_failure()

    response = login(world.user("ada", "acme", role="admin")).get("/ops/")

    assert {"provider": "openai:default", "state": "open"} in response.context["providers"]
    breaker.record_success()


def test_the_nav_links_admins_to_the_operations_page(client, world, login):
    assert 'href="/ops/"' in login(world.user("ada", "acme", role="admin")).get("/").content.decode()
    assert 'href="/ops/"' not in login(world.user("mia", "acme")).get("/").content.decode()
