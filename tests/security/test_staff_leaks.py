"""Staff see only what they may read.

Given an organization with a team-only memo (team Legal), a document readable by one user only and
a public handbook, and a Legal member's question answered from the memo (edited by a Legal reviewer,
prompt logs kept in full), the memo's value read into a table and corrected by that reviewer, and a
Legal-only email whose sender and recipients are recorded with its version, then an admin, a
reviewer and a member outside Legal open every page, admin page, API endpoint and export that can
mention that answer, its prompt log, its receipt, its review item, the value or the email, and none
shows the memo's text, the edit, the corrected value or the email's addresses; the Legal member and
the Legal reviewer do see them. The pages are found by walking the URL patterns, the admin registry
and the OpenAPI schema, so a page added later is walked too (or the test says which id it needs)."""

import json
import re
from email.message import EmailMessage

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

from citadel.accounts.admin_base import site
from citadel.accounts.models import BreakGlassAccess
from citadel.accounts.services import api_token_create, break_glass_open
from citadel.answers.models import AnswerStatus
from citadel.answers.services import answer_question
from citadel.audit.models import AuditEvent, PromptLog
from citadel.audit.selectors import audit_chain_verify
from citadel.extraction.models import ExtractionValue
from citadel.extraction.services import (
    extraction_execute,
    extraction_schema_create,
    extraction_start,
    extraction_value_review,
)
from citadel.reports.services import report_execute, report_start, report_template_create
from citadel.review.models import ReviewItem
from citadel.review.services import review_approve, review_edit
from tests.factories import make_document

CANARY = "zebracanary"
MEMO = f"The settlement amount agreed with Initech is {CANARY} dollars, payable in March."
QUESTION = "What is the settlement amount agreed with Initech?"
# What the Legal reviewer adds to the answer, what she corrects the table's value to, and the
# domain of the Legal email's sender and recipients: each as secret as the memo.
EDIT_CANARY = "editcanary"
VALUE_CANARY = "valuecanary"
MAIL_CANARY = "mailcanary"
CANARIES = (CANARY, EDIT_CANARY, VALUE_CANARY, MAIL_CANARY)
# Web pages under these URL namespaces are walked; the rest are not about answers and records.
NAMESPACES = ("answers", "review", "audit", "retrieval", "documents", "reports", "extraction", "classification")
SKIP_VIEWS = {"answers:stream"}  # a server-sent-events stream for the asker's own question


def _legal_email() -> bytes:
    message = EmailMessage()
    message["Subject"] = "Settlement call"
    message["From"] = f"Outside Counsel <counsel@{MAIL_CANARY}.example>"
    message["To"] = f"legal@{MAIL_CANARY}.example"
    message["Cc"] = f"cfo@{MAIL_CANARY}.example"
    message["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
    message.set_content("Notes of the call about the Initech settlement follow.")
    return bytes(message)


class Scene:
    def __init__(self, world, ingest):
        self.org = world.org("acme")
        self.org.review_policy = "all"
        self.org.prompt_log_mode = "full"
        self.org.save()
        self.lee = world.user("lee", self.org, role="member", teams=["Legal"])
        self.lena = world.user("lena", self.org, role="reviewer", teams=["Legal"])
        self.ada = world.user("ada", self.org, role="admin")
        self.rita = world.user("rita", self.org, role="reviewer")
        self.mo = world.user("mo", self.org, role="member")
        legal = self.lee.memberships.get().teams.get()
        self.memo = make_document(self.org, "settlement-memo", [MEMO], grants=[legal], title="Settlement memo")
        self.private = make_document(self.org, "ada-notes", ["Ada's own notes."], grants=[self.ada])
        self.handbook = make_document(self.org, "handbook", ["Refunds take 14 days."])
        self.answer = answer_question(principal=world.principal("lee", self.org), text=QUESTION)
        self.item = ReviewItem.objects.get(answer=self.answer)
        self.lena_principal = world.principal("lena", self.org, role="reviewer", teams=["Legal"])
        # The same question as an item of Lee's checklist over the memo and the handbook.
        report_template_create(
            organization_id=self.org.pk,
            data={"slug": "legal-check", "title": "Legal check", "items": [{"question": QUESTION, "type": "text"}]},
        )
        report = report_start(
            principal=world.principal("lee", self.org),
            template_slug="legal-check",
            document_ids=[self.memo.pk, self.handbook.pk],
            enqueue=False,
        )
        self.report = report_execute(report_id=report.pk)
        self.report_review = ReviewItem.objects.get(answer__question__report_item__report=self.report)
        # And the settlement amount read into Lee's table of the memo and the handbook.
        extraction_schema_create(
            organization_id=self.org.pk,
            data={"slug": "settlements", "title": "Settlements", "fields": [{"name": "settlement_amount"}]},
        )
        extraction = extraction_start(
            principal=world.principal("lee", self.org),
            schema_slug="settlements",
            document_ids=[self.memo.pk, self.handbook.pk],
            enqueue=False,
        )
        self.extraction = extraction_execute(extraction_id=extraction.pk)
        self.memo_value = ExtractionValue.objects.get(extraction=self.extraction, document=self.memo)
        assert CANARY in self.memo_value.value
        # Lena adds a line to the waiting answer and corrects the value read from the memo.
        review_edit(
            principal=self.lena_principal,
            item_id=self.item.pk,
            text=f"{self.answer.text}\nChecked against the memo: {EDIT_CANARY}.",
            note="Added the check.",
        )
        extraction_value_review(
            principal=self.lena_principal, value_id=self.memo_value.pk, value=f"{VALUE_CANARY} dollars"
        )
        # And Lee files an email only Legal may read.
        self.email = ingest(world.principal("lee", self.org), "settlement-call.eml", _legal_email(), teams=[legal])
        assert self.email.status == "ready" and MAIL_CANARY in self.email.metadata["from"]

    def ids(self) -> dict:
        log = PromptLog.objects.filter(answer=self.answer).first()
        return {
            "answer_id": self.answer.pk,
            "question_id": self.answer.question_id,
            "thread_id": self.answer.question.thread_id,
            "item_id": self.item.pk,
            "log_id": log.pk if log else 0,
            "document_id": self.memo.pk,
            "number": 1,
            "n": 1,
            "action": "approve",
            "grant_id": self.memo.grants.get().pk,
            # Evaluation runs and sets hold no answer text: any id will do.
            "run_id": 0,
            "eval_set_id": 0,
            "report_id": self.report.pk,
            "extraction_id": self.extraction.pk,
            "value_id": self.memo_value.pk,
            # Sources hold no answer text: any id will do.
            "source_id": 0,
        }


@pytest.fixture
def scene(world, ingest) -> Scene:
    return Scene(world, ingest)


def _web_paths(ids: dict) -> list[str]:
    paths = []

    def walk(patterns, prefix: str, namespace: str | None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace in NAMESPACES:
                name = f"{namespace}:{pattern.name}"
                if name in SKIP_VIEWS:
                    continue
                route = prefix + str(pattern.pattern)
                missing = [k for k in pattern.pattern.converters if k not in ids]
                assert not missing, f"{name} needs an id this walk does not know: {missing}"
                paths.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), route))

    walk(get_resolver().url_patterns, "", None)
    return sorted(set(paths))


def _admin_paths(scene: Scene) -> list[str]:
    paths = ["/admin/"]
    for model, model_admin in site._registry.items():
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        paths.append(base)
        rows = model.objects.all()
        if model_admin.org_path != "pk":
            rows = rows.filter(**{model_admin.org_path: scene.org.pk})
        else:
            rows = rows.filter(pk=scene.org.pk)
        paths += [f"{base}{pk}/change/" for pk in rows.values_list("pk", flat=True)[:50]]
    return paths


def _api_paths(client, token: str, ids: dict) -> list[str]:
    schema = client.get("/api/v1/openapi.json").json()
    paths = []
    for path, operations in schema["paths"].items():
        if "get" not in operations or path.endswith("openapi.json"):
            continue
        names = re.findall(r"{(\w+)}", path)
        missing = [n for n in names if n not in ids]
        assert not missing, f"{path} needs an id this walk does not know: {missing}"
        paths.append(re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path))
    return paths


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _pages(client, user, scene: Scene) -> dict[str, bytes]:
    """Every page the walk finds, as `user` sees it: web, exports, admin and API."""
    ids = scene.ids()
    client.force_login(user)
    seen = {}
    extra = [
        f"/search/?q={QUESTION}",
        f"/search/hit-testing/?q={QUESTION}",
        "/audit/export/?format=csv",
        "/audit/export/?format=jsonl",
        f"/audit/timeline/?user={scene.lee.username}",
        f"/audit/timeline/?user={scene.lena.username}",
        f"/documents/{scene.email.document_id}/",
        f"/documents/{scene.email.document_id}/versions/1/inspect/",
        f"/documents/{scene.email.document_id}/versions/1/text/",
        f"/audit/prompt-logs/?user={scene.lee.username}",
        f"/review/?item={scene.item.pk}",
    ]
    for path in [*_web_paths(ids), *extra, *_admin_paths(scene)]:
        seen[path] = _body(client.get(path, follow=True))
    _, token = api_token_create(user=user)
    headers = {"Authorization": f"Bearer {token}"}
    for path in _api_paths(client, token, ids):
        seen[f"api {path}"] = _body(client.get(path, headers=headers))
    seen["api search"] = _body(client.get("/api/v1/search/", {"q": QUESTION}, headers=headers))
    client.logout()
    return seen


def _leaks(pages: dict[str, bytes]) -> list[str]:
    return [f"{path} ({canary})" for path, body in pages.items() for canary in CANARIES if canary.encode() in body]


def test_the_scene_answers_from_the_memo_and_a_legal_reviewer_gets_the_item(scene):
    assert CANARY in scene.answer.text
    assert scene.item.assigned_to_id == scene.lena.pk
    assert PromptLog.objects.filter(answer=scene.answer).exclude(prompt_text="").exists()


@pytest.mark.parametrize("who", ["ada", "rita", "mo"])
def test_nobody_outside_legal_reads_the_memo_anywhere_while_it_waits(scene, client, who):
    pages = _pages(client, getattr(scene, who), scene)

    assert len(pages) > 40
    assert _leaks(pages) == []


@pytest.mark.parametrize("who", ["ada", "rita", "mo"])
def test_nobody_outside_legal_reads_the_memo_anywhere_once_published(scene, client, who):
    review_approve(principal=scene.lena_principal, item_id=scene.item.pk)
    review_approve(principal=scene.lena_principal, item_id=scene.report_review.pk)
    scene.answer.refresh_from_db()
    scene.report.refresh_from_db()
    assert scene.answer.status == AnswerStatus.ANSWERED and scene.report.status == "published"

    assert _leaks(_pages(client, getattr(scene, who), scene)) == []


def test_the_legal_member_and_the_legal_reviewer_read_it(scene, client):
    review_approve(principal=scene.lena_principal, item_id=scene.item.pk)
    review_approve(principal=scene.lena_principal, item_id=scene.report_review.pk)
    answer, item = scene.answer.pk, scene.item.pk

    client.force_login(scene.lee)
    assert CANARY.encode() in client.get(f"/answers/{answer}/").content
    assert CANARY.encode() in client.get(f"/answers/{answer}/receipt/").content
    client.force_login(scene.lena)
    assert CANARY.encode() in client.get(f"/review/items/{item}/").content
    assert CANARY.encode() in client.get(f"/admin/answers/answer/{answer}/change/").content
    assert CANARY.encode() in client.get(f"/reports/{scene.report.pk}/").content
    assert CANARY.encode() in client.get(f"/extractions/{scene.extraction.pk}/").content
    edit_diff = re.compile(rf'<pre class="diff">[^<]*\n\+Checked against the memo: {EDIT_CANARY}\.')
    assert edit_diff.search(client.get(f"/review/items/{item}/").content.decode())
    assert (
        f"+Checked against the memo: {EDIT_CANARY}."
        in client.get(f"/admin/review/reviewitem/{item}/change/").content.decode()
    )
    assert VALUE_CANARY.encode() in client.get(f"/extractions/{scene.extraction.pk}/").content
    client.force_login(scene.lee)
    assert CANARY.encode() in client.get(f"/reports/{scene.report.pk}/export.md").content
    assert CANARY.encode() in client.get(f"/extractions/{scene.extraction.pk}/export.csv").content
    assert VALUE_CANARY.encode() in client.get(f"/extractions/{scene.extraction.pk}/export.csv").content
    assert MAIL_CANARY.encode() in client.get(f"/documents/{scene.email.document_id}/versions/1/text/").content


def test_a_reviewer_outside_legal_sees_what_is_withheld_and_may_escalate_but_not_decide(scene, client):
    client.force_login(scene.rita)
    page = client.get(f"/review/items/{scene.item.pk}/").content.decode()

    assert "built from documents you may not read: Settlement memo" in page
    assert f"/review/items/{scene.item.pk}/escalate/" in page
    assert f"/review/items/{scene.item.pk}/approve/" not in page
    response = client.post(f"/review/items/{scene.item.pk}/approve/", follow=True)
    assert ReviewItem.objects.get(pk=scene.item.pk).state == "pending"
    assert b"escalate it to a reviewer who may" in response.content


def test_with_no_reviewer_who_may_read_the_sources_the_item_waits_visibly(world, scene):
    lena = scene.lena.memberships.get()
    lena.teams.clear()
    # Asked in other words, so it opens an item of its own rather than joining the scene's.
    question = answer_question(
        principal=world.principal("lee", scene.org), text="Which settlement amount was agreed with Initech?"
    )

    item = ReviewItem.objects.get(answer=question)
    assert item.assigned_to_id is None
    assert item.needs_access_to == ["Settlement memo"]


def test_break_glass_opens_content_to_a_superuser_for_a_while_on_the_record(
    scene, client, mailoutbox, django_capture_on_commit_callbacks
):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    scene.ada.email = "ada@example.com"
    scene.ada.save()
    log = PromptLog.objects.filter(answer=scene.answer).first()
    client.force_login(boss)
    path = f"/audit/prompt-logs/{log.pk}/?org=acme"
    assert CANARY.encode() not in client.get(path).content

    with django_capture_on_commit_callbacks(execute=True):
        break_glass_open(user=boss, organization=scene.org, reason="Legal hold requested by counsel, case 4411.")

    assert CANARY.encode() in client.get(path).content
    event = AuditEvent.objects.get(verb="access.break_glass_opened")
    assert event.organization_id == scene.org.pk and "case 4411" in event.metadata["reason"]
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]
    BreakGlassAccess.objects.update(expires_at=event.created_at)
    assert CANARY.encode() not in client.get(path).content
    assert audit_chain_verify(organization_id=scene.org.pk).ok


def test_every_page_walked_answers_without_a_server_error(scene, client):
    client.force_login(scene.ada)
    ids = scene.ids()
    failures = {}
    for path in [*_web_paths(ids), *_admin_paths(scene)]:
        status = client.get(path).status_code
        if status >= 500:
            failures[path] = status
    assert failures == {}
    assert json.loads(client.get("/api/v1/openapi.json").content)["paths"]
