"""API fixtures: bearer tokens for users of two organizations, and a small client that sends them."""

import json
import tempfile

import pytest

from citadel.accounts.models import ReviewPolicy
from citadel.accounts.services import api_token_create
from citadel.answers.services import answer_question
from citadel.evaluation.services import eval_run_execute, eval_run_start, eval_set_create, golden_question_add
from citadel.extraction.services import extraction_schema_create, extraction_start
from citadel.notifications.models import Notification
from citadel.reports.services import report_start, report_template_create
from citadel.review.models import ReviewItem
from citadel.sources.services import source_create, source_root_grant
from tests.factories import make_document

API = "/api/v1"


class ApiClient:
    """Calls /api/v1 with a bearer token (or none), like a script would."""

    def __init__(self, client, token: str | None = None, org: str | None = None):
        self.client = client
        self.token = token
        self.org = org

    def headers(self) -> dict:
        headers = {}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.org is not None:
            headers["X-Citadel-Org"] = self.org
        return headers

    def get(self, path: str, params: dict | None = None):
        return self.client.get(API + path, data=params or {}, headers=self.headers())

    def post(self, path: str, body: dict | None = None):
        return self.client.post(
            API + path, data=json.dumps(body or {}), content_type="application/json", headers=self.headers()
        )

    def patch(self, path: str, body: dict | None = None):
        return self.client.patch(
            API + path, data=json.dumps(body or {}), content_type="application/json", headers=self.headers()
        )

    def upload(self, path: str, data: dict):
        return self.client.post(API + path, data=data, headers=self.headers())

    def delete(self, path: str):
        return self.client.delete(API + path, headers=self.headers())


@pytest.fixture
def token_for(world):
    """token_for("ann", "acme", role="admin") -> a bearer token for that (new) member."""

    def make(username: str, org: str, role: str = "member", teams: list[str] | None = None) -> str:
        user = world.user(username, org, role, teams)
        _, secret = api_token_create(user=user)
        return secret

    return make


@pytest.fixture
def api(client, token_for):
    """api("ann", "acme", role="admin") -> an ApiClient acting as that member."""

    def make(username: str, org: str, role: str = "member", teams: list[str] | None = None) -> ApiClient:
        return ApiClient(client, token_for(username, org, role, teams))

    return make


@pytest.fixture
def anonymous(client) -> ApiClient:
    return ApiClient(client)


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    if code is not None:
        assert body["code"] == code, body
    return body


class Scenario:
    """Two organizations with one of everything the API serves.

    acme: ann (admin), rita (reviewer), bob (member, team support); a handbook everyone may read,
    a payroll memo only ann may read, a question bob asked that waits for review (policy "all"),
    a golden set with a finished retrieval run, a checklist and a report bob ran, a schema and an
    extraction bob ran, a folder source ann added. globex: gus (admin) and its own handbook."""

    def __init__(self, world, token_for):
        self.acme = world.org("acme")
        self.globex = world.org("globex")
        self.ann_token = token_for("ann", "acme", role="admin")
        self.rita_token = token_for("rita", "acme", role="reviewer")
        self.bob_token = token_for("bob", "acme", role="member", teams=["support"])
        self.gus_token = token_for("gus", "globex", role="admin")
        ann = world.principal("ann", "acme", role="admin")
        bob = world.principal("bob", "acme", role="member", teams=["support"])
        self.handbook = make_document(
            self.acme, "handbook", ["Refunds take 14 days from the date of purchase.", "Shipping is free in the EU."]
        )
        self.payroll = make_document(
            self.acme, "payroll", ["Salaries are paid on the 25th."], grants=[world.user("ann", "acme", "admin")]
        )
        self.globex_doc = make_document(self.globex, "globex-handbook", ["Globex refunds take 30 days."])
        self.grant = self.handbook.grants.get()
        self.acme.review_policy = ReviewPolicy.ALL
        self.acme.save(update_fields=["review_policy"])
        self.answer = answer_question(principal=bob, text="How long do refunds take?")
        self.review_item = ReviewItem.objects.get(answer=self.answer)
        eval_set = eval_set_create(principal=ann, name="Handbook")
        golden_question_add(
            principal=ann, eval_set_id=eval_set.pk, question="refund days", expected_external_ids=["handbook"]
        )
        self.eval_set = eval_set
        self.run = eval_run_start(principal=ann, eval_set_id=eval_set.pk)
        eval_run_execute(run_id=self.run.pk)
        report_template_create(
            organization_id=self.acme.pk,
            data={
                "slug": "refund-check",
                "title": "Refund check",
                "items": [{"question": "How long do refunds take?"}],
            },
        )
        self.report = report_start(
            principal=bob, template_slug="refund-check", document_ids=[self.handbook.pk], enqueue=False
        )
        extraction_schema_create(
            organization_id=self.acme.pk,
            data={
                "slug": "refund-terms",
                "title": "Refund terms",
                "fields": [{"name": "refund_time", "type": "duration"}],
            },
        )
        self.extraction = extraction_start(
            principal=bob, schema_slug="refund-terms", document_ids=[self.handbook.pk], enqueue=False
        )
        share = tempfile.mkdtemp(prefix="citadel-share-")
        source_root_grant(organization_id=self.acme.pk, path=share)
        self.source = source_create(principal=ann, kind="folder", name="Share", config={"path": share})

    def path_ids(self) -> dict:
        """A real object for each path parameter of the API's operations."""
        return {
            "document_id": self.handbook.pk,
            "number": 1,
            "grant_id": self.grant.pk,
            "answer_id": self.answer.pk,
            "thread_id": self.answer.question.thread_id,
            "item_id": self.review_item.pk,
            "run_id": self.run.pk,
            "kind": "evaluation_runs",
            "report_id": self.report.pk,
            "extraction_id": self.extraction.pk,
            "source_id": self.source.pk,
            # ann is told her evaluation run is done.
            "notification_id": Notification.objects.filter(recipient__username="ann").latest("id").pk,
        }


@pytest.fixture
def scenario(world, token_for) -> Scenario:
    return Scenario(world, token_for)


@pytest.fixture
def as_user(client):
    """as_user(token) -> an ApiClient sending that token."""
    return lambda token, org=None: ApiClient(client, token, org)
