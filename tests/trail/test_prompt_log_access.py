"""Prompt logs: admins read their organization's, reviewers the ones of answers they review,
raw content only while the policy keeps it, and a superuser's reads are recorded."""

import pytest
from django.contrib.auth import get_user_model

from citadel.audit.models import AuditEvent, PromptLogMode
from citadel.review.models import ReviewItem
from tests.factories import make_prompt_log
from tests.trail.conftest import make_answer


@pytest.fixture
def logs(tenants):
    acme, globex, people = tenants
    reviewed = make_answer(acme, people["mo"], "How long do refunds take?")
    other = make_answer(acme, people["mo"], "Who approves travel?")
    ReviewItem.objects.create(organization=acme, answer=reviewed, reason="flagged", assigned_to=people["rita"])
    return {
        "reviewed": make_prompt_log(acme, people["mo"], answer=reviewed, prompt="refund prompt", output="14 days"),
        "other": make_prompt_log(acme, people["mo"], answer=other, prompt="travel prompt", output="managers"),
        "globex": make_prompt_log(globex, people["gus"], prompt="globex prompt", output="globex output"),
    }


def _set_mode(org, mode):
    org.prompt_log_mode = mode
    org.save(update_fields=["prompt_log_mode"])


def test_an_admin_lists_their_organization_logs_only(login, tenants, logs):
    _, _, people = tenants

    listed = login(people["ann"]).get("/audit/prompt-logs/").context["page"].object_list

    assert {log.pk for log in listed} == {logs["reviewed"].pk, logs["other"].pk}


def test_another_organization_log_is_not_found(login, tenants, logs):
    _, _, people = tenants

    response = login(people["gus"]).get(f"/audit/prompt-logs/{logs['reviewed'].pk}/")

    assert response.status_code == 404
    assert b"refund prompt" not in response.content


def test_a_reviewer_reads_only_logs_of_answers_they_review(login, tenants, logs):
    _, _, people = tenants
    client = login(people["rita"])

    listed = client.get("/audit/prompt-logs/").context["page"].object_list

    assert [log.pk for log in listed] == [logs["reviewed"].pk]
    assert client.get(f"/audit/prompt-logs/{logs['reviewed'].pk}/").status_code == 200
    assert client.get(f"/audit/prompt-logs/{logs['other'].pk}/").status_code == 404


def test_a_reviewer_keeps_access_to_answers_they_decided(login, tenants, logs):
    from django.utils import timezone

    acme, _, people = tenants
    item = ReviewItem.objects.get(answer=logs["reviewed"].answer)
    item.assigned_to = None
    item.state, item.decided_by, item.decided_at = "approved", people["rita"], timezone.now()
    item.save()

    assert login(people["rita"]).get(f"/audit/prompt-logs/{logs['reviewed'].pk}/").status_code == 200


def test_members_read_no_prompt_logs(login, tenants, logs):
    _, _, people = tenants

    assert login(people["mo"]).get("/audit/prompt-logs/").status_code == 403
    assert login(people["mo"]).get(f"/audit/prompt-logs/{logs['reviewed'].pk}/").status_code == 403


def test_raw_content_shows_while_the_policy_keeps_it(login, tenants, logs):
    acme, _, people = tenants
    _set_mode(acme, PromptLogMode.FULL)

    page = login(people["ann"]).get(f"/audit/prompt-logs/{logs['reviewed'].pk}/").content.decode()

    assert "refund prompt" in page and "14 days" in page


def test_switching_the_policy_to_none_hides_content_already_stored(login, tenants, logs):
    acme, _, people = tenants
    _set_mode(acme, PromptLogMode.NONE)

    page = login(people["ann"]).get(f"/audit/prompt-logs/{logs['reviewed'].pk}/").content.decode()

    assert "refund prompt" not in page
    assert "metadata-only" in page


def test_content_stored_in_full_is_shown_redacted_under_a_redacted_policy(login, tenants):
    acme, _, people = tenants
    _set_mode(acme, PromptLogMode.FULL)
    log = make_prompt_log(acme, people["mo"], prompt="Mail bob@example.com", output="ok")
    _set_mode(acme, PromptLogMode.REDACTED)

    page = login(people["ann"]).get(f"/audit/prompt-logs/{log.pk}/").content.decode()

    assert "bob@example.com" not in page and "[EMAIL]" in page


def test_purged_content_is_gone_but_the_metadata_stays_readable(login, tenants):
    from citadel.audit.services import prompt_logs_purge

    acme, _, people = tenants
    acme.prompt_log_retention_days = 1
    acme.save()
    log = make_prompt_log(acme, people["mo"], days_ago=3, prompt="old secret prompt", model="gpt-x")
    prompt_logs_purge()

    page = login(people["ann"]).get(f"/audit/prompt-logs/{log.pk}/").content.decode()

    assert "old secret prompt" not in page
    assert "purged" in page and "gpt-x" in page


def test_model_output_is_escaped(login, tenants):
    acme, _, people = tenants
    _set_mode(acme, PromptLogMode.FULL)
    log = make_prompt_log(acme, people["mo"], prompt="p", output="<script>alert(1)</script>")

    page = login(people["ann"]).get(f"/audit/prompt-logs/{log.pk}/").content.decode()

    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_superuser_reading_prompt_logs_is_audited_in_that_organization(login, tenants, logs):
    acme, _, _ = tenants
    root = get_user_model().objects.create_superuser("root", password="x")
    client = login(root)

    client.get("/audit/prompt-logs/?org=acme")
    client.get(f"/audit/prompt-logs/{logs['other'].pk}/?org=acme")

    reads = AuditEvent.objects.filter(organization=acme, verb="audit.read", actor_id=root.pk).order_by("id")
    assert [r.metadata["what"] for r in reads] == ["prompt_logs", "prompt_log"]
    assert reads[1].metadata["params"] == {"prompt_log_id": logs["other"].pk}


def test_a_superuser_cannot_read_a_log_through_the_wrong_organization(login, tenants, logs):
    root = get_user_model().objects.create_superuser("root", password="x")

    response = login(root).get(f"/audit/prompt-logs/{logs['globex'].pk}/?org=acme")

    assert response.status_code == 404


def test_content_built_from_a_document_the_reader_may_not_read_is_withheld_with_its_title(login, world, tenants):
    """Given a prompt built from a Legal-only memo, an admin outside Legal reads the log's metadata
    and which document withheld its content, never the content; a Legal admin reads it."""
    from tests.factories import make_document

    acme, _, people = tenants
    _set_mode(acme, PromptLogMode.FULL)
    lex = world.user("lex", acme, role="admin", teams=["Legal"])
    legal = lex.memberships.get().teams.get()
    memo = make_document(acme, "memo", ["The settlement is confidential."], grants=[legal], title="Settlement memo")
    log = make_prompt_log(
        acme, people["mo"], prompt="The settlement is confidential.", retrieved_document_ids=[memo.pk]
    )

    outsider = login(people["ann"]).get(f"/audit/prompt-logs/{log.pk}/").content.decode()
    assert "confidential" not in outsider
    assert "built from documents you may not read (Settlement memo)" in outsider
    assert "The settlement is confidential." in login(lex).get(f"/audit/prompt-logs/{log.pk}/").content.decode()
