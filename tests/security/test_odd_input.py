"""Odd input is a 4xx or a reason, never a 500.

Given an organization with one of everything a page or an endpoint names by id (a document, an
answer waiting for review, its prompt log, a report, an extraction, an evaluation run), an admin
sends what no form would: NUL bytes and control characters in query strings, form fields and
addresses; ids past PostgreSQL's bigint; "²" (a digit to str.isdigit(), not to int()) and
Arabic-Indic digits where an id goes. Every web page and every API operation is found by walking
the URL patterns, the admin registry and the OpenAPI schema, so one added later is walked too. No
answer is a 500, and Django logs no error."""

import json
import logging
import re
from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from citadel.accounts.admin_base import site
from citadel.accounts.middleware import SESSION_ORG_KEY
from citadel.accounts.services import api_token_create
from citadel.answers.services import answer_question
from citadel.audit.models import PromptLog
from citadel.core.ids import MAX_ID
from citadel.documents.models import DocumentLabel, Label
from citadel.evaluation.services import eval_run_execute, eval_run_start, eval_set_create, golden_question_add
from citadel.extraction.services import extraction_execute, extraction_schema_create, extraction_start
from citadel.notifications.models import Notification
from citadel.reports.services import report_execute, report_start, report_template_create
from citadel.review.models import ReviewItem
from tests.factories import make_document

URLENCODED, MULTIPART = "application/x-www-form-urlencoded", "multipart/form-data"
NUL_QUERY = "?q=a%00b&label=%00&page=%00&item=%00&a=%00&b=%00&run=%00&k=%00&org=%00&user=%00"
NUL_FIELDS = {"q": "a\x00b", "question": "a\x00b", "text": "a\x00b", "note": "a\x00b", "reason": "\x00"}
HUGE_IDS = [MAX_ID + 1, 10**20]
NOT_IDS = ["²", "١٢", "1e3", "-1", "0", str(MAX_ID + 1)]
UNREADABLE = "cannot be read"


def arabic_indic(number: int) -> str:
    """`number` in Arabic-Indic digits, which int() reads as it reads ASCII ones."""
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


class Scene:
    def __init__(self, world):
        self.org = world.org("acme")
        self.org.review_policy = "all"
        self.org.prompt_log_mode = "full"
        self.org.save()
        self.ada = world.user("ada", self.org, role="admin")
        lee = world.principal("lee", self.org)
        ada = world.principal("ada", self.org, role="admin")
        self.document = make_document(self.org, "handbook", ["Refunds take 14 days.", "Shipping is free in the EU."])
        self.answer = answer_question(principal=lee, text="How long do refunds take?")
        self.item = ReviewItem.objects.get(answer=self.answer)
        report_template_create(
            organization_id=self.org.pk,
            data={"slug": "refunds", "title": "Refunds", "items": [{"question": "How long do refunds take?"}]},
        )
        report = report_start(principal=lee, template_slug="refunds", document_ids=[self.document.pk], enqueue=False)
        self.report = report_execute(report_id=report.pk)
        extraction_schema_create(
            organization_id=self.org.pk,
            data={"slug": "terms", "title": "Terms", "fields": [{"name": "refund_time", "type": "duration"}]},
        )
        extraction = extraction_start(
            principal=lee, schema_slug="terms", document_ids=[self.document.pk], enqueue=False
        )
        self.extraction = extraction_execute(extraction_id=extraction.pk)
        self.eval_set = eval_set_create(principal=ada, name="Handbook")
        golden_question_add(
            principal=ada, eval_set_id=self.eval_set.pk, question="refund days", expected_external_ids=["handbook"]
        )
        self.run = eval_run_start(principal=ada, eval_set_id=self.eval_set.pk)
        eval_run_execute(run_id=self.run.pk)

    def ids(self) -> dict:
        return {
            "answer_id": self.answer.pk,
            "question_id": self.answer.question_id,
            "thread_id": self.answer.question.thread_id,
            "item_id": self.item.pk,
            "log_id": PromptLog.objects.get(answer=self.answer).pk,
            "document_id": self.document.pk,
            "number": 1,
            "n": 1,
            "action": "approve",
            "grant_id": self.document.grants.get().pk,
            "run_id": self.run.pk,
            "kind": "evaluation_runs",
            "eval_set_id": self.eval_set.pk,
            "report_id": self.report.pk,
            "extraction_id": self.extraction.pk,
            "value_id": self.extraction.values.first().pk,
            # Lee's, when his runs told him anything: the admin walking it finds it not found.
            "notification_id": Notification.objects.values_list("pk", flat=True).first() or 1,
            # No source, task or content gap is made: their pages are walked at ids that name none.
            "source_id": 1,
            "gap_id": 1,
            "task_id": "00000000-0000-0000-0000-000000000000",
        }

    def huge_ids(self, huge: int) -> dict:
        return {name: huge if isinstance(value, int) else value for name, value in self.ids().items()}


@pytest.fixture
def scene(world) -> Scene:
    return Scene(world)


@pytest.fixture
def admin(client, scene):
    """The admin's client, which answers a server error with its page instead of raising it."""
    client.raise_request_exception = False
    client.force_login(scene.ada)
    return client


@pytest.fixture
def errors_logged(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR]


def _web_paths(ids: dict) -> list[str]:
    """Every web page (not the API), its ids filled from `ids`."""
    paths = []

    def walk(patterns, prefix: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if route.startswith(("api/", "admin/")):
                    continue
                missing = [k for k in pattern.pattern.converters if k not in ids]
                assert not missing, f"{route} needs an id this walk does not know: {missing}"
                paths.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), route))

    walk(get_resolver().url_patterns, "")
    return sorted(set(paths))


def _admin_paths(ids_of) -> list[str]:
    """Each admin list page, and each model's change page for the id `ids_of` gives."""
    paths = []
    for model in site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        paths += [base, f"{base}{ids_of(model)}/change/"]
    return paths


def _post(client, path: str, fields: dict, encoding: str):
    if encoding == URLENCODED:
        return client.post(path, urlencode(fields), content_type=URLENCODED)
    return client.post(path, fields)


def _server_errors(client, requests) -> dict:
    failures = {}
    for method, path, data in requests:
        status = (_post(client, path, data, URLENCODED) if method == "post" else client.get(path, data)).status_code
        if status >= 500:
            failures[f"{method} {path} {data}"[:120]] = status
    return failures


# --- web pages ------------------------------------------------------------------------------------


def test_a_nul_byte_in_the_query_of_any_page_is_a_400_that_says_why(scene, admin, errors_logged):
    # Given every web page and admin page, with their real ids
    paths = _web_paths(scene.ids()) + _admin_paths(lambda model: model.objects.values_list("pk", flat=True).first())
    assert len(paths) > 60

    # When the admin opens each with NUL bytes in its query
    answers = {path: admin.get(path + NUL_QUERY) for path in paths}

    # Then each is refused, saying why, and nothing is logged as an error
    assert {path: r.status_code for path, r in answers.items() if r.status_code != 400} == {}
    assert all(UNREADABLE in r.content.decode() for r in answers.values())
    assert errors_logged() == []


@pytest.mark.parametrize("encoding", [URLENCODED, MULTIPART])
def test_a_nul_byte_in_any_form_is_a_400_and_changes_nothing(world, scene, admin, errors_logged, encoding):
    # Given the admin working in acme, also a member of globex
    globex = world.org("globex")
    world.user("ada", globex, role="admin")
    fields = {**NUL_FIELDS, "organization": globex.pk}

    # When each page is posted a form with a NUL byte in a field, the switch to globex among them
    answers = {path: _post(admin, path, fields, encoding) for path in _web_paths(scene.ids())}

    # Then each is refused, and nothing changed: the organization, the review item
    assert {path: r.status_code for path, r in answers.items() if r.status_code != 400} == {}
    assert admin.session[SESSION_ORG_KEY] == scene.org.pk
    assert ReviewItem.objects.get(pk=scene.item.pk).state == "pending"
    assert errors_logged() == []


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_an_id_past_bigint_in_any_address_is_no_server_error(scene, admin, errors_logged, huge):
    # Given every page and admin page addressed with an id PostgreSQL cannot hold
    paths = _web_paths(scene.huge_ids(huge)) + _admin_paths(lambda model: huge)

    # When the admin opens and posts to each, then none is a server error
    assert _server_errors(admin, [(m, p, {}) for p in paths for m in ("get", "post")]) == {}
    assert errors_logged() == []


@pytest.mark.parametrize("text", NOT_IDS)
def test_what_is_not_an_id_is_no_server_error_where_a_form_names_one(scene, admin, errors_logged, text):
    # Given the forms and queries that carry an id in a field
    ids = scene.ids()
    requests = [
        ("post", reverse("switch_organization"), {"organization": text}),
        ("post", reverse("classification:set", args=[ids["document_id"]]), {"label": text, "applies": "yes"}),
        ("post", reverse("reports:start"), {"template": "refunds", "documents": text, "team": text}),
        ("post", reverse("extraction:start"), {"schema": "terms", "documents": text, "team": text}),
        ("post", reverse("extraction:review_value", args=[ids["value_id"]]), {"value": "x" * 601, "extraction": text}),
        ("post", reverse("review:decide", args=[ids["item_id"], "escalate"]), {"assignee": text}),
        ("get", reverse("evaluation:compare"), {"a": text, "b": text}),
        ("get", reverse("evaluation:settings_gate"), {"run": text}),
        ("get", reverse("retrieval:search"), {"q": "refunds", "k": text}),
        ("get", reverse("audit:events"), {"page": text, "actor": text}),
        ("get", "/admin/review/reviewitem/", {"assignee": text}),
    ]

    # When the admin sends each with something that is not an id, then none is a server error
    assert _server_errors(admin, requests) == {}
    assert errors_logged() == []


@pytest.mark.parametrize("spelled", [arabic_indic, lambda pk: f"{pk}²", lambda pk: str(pk + MAX_ID)])
def test_a_label_that_is_not_an_id_is_not_found(scene, admin, spelled):
    # Given a label of acme
    label = Label.objects.create(organization=scene.org, name="Finance", description="Invoices and budgets.")

    # When a reviewer sets it on a document, its id written in other digits or past bigint
    response = admin.post(
        reverse("classification:set", args=[scene.document.pk]), {"label": spelled(label.pk), "applies": "yes"}
    )

    # Then there is no such label, and the document has none
    assert response.status_code == 404
    assert not DocumentLabel.objects.exists()


@pytest.mark.parametrize("spelled", [arabic_indic, lambda pk: f"{pk}²"])
def test_a_run_to_compare_that_is_not_an_id_is_not_found(scene, admin, spelled):
    compare = reverse("evaluation:compare")

    assert admin.get(compare, {"a": spelled(scene.run.pk), "b": scene.run.pk}).status_code == 404
    assert admin.get(reverse("evaluation:settings_gate"), {"run": spelled(scene.run.pk)}).status_code == 404


def test_arabic_indic_digits_in_an_address_match_no_page(scene, admin):
    assert admin.get(f"/answers/{arabic_indic(scene.answer.pk)}/").status_code == 404


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def api(client, scene):
    _, token = api_token_create(user=scene.ada)
    client.raise_request_exception = False
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _operations(client) -> list[tuple[str, str, dict]]:
    schema = client.get("/api/v1/openapi.json").json()
    return [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        if not path.endswith("openapi.json")
        for method, operation in operations.items()
    ]


def test_every_api_query_parameter_refuses_a_nul_byte_before_the_database(scene, api, caplog, errors_logged):
    # Given every GET operation of the schema and each of its query parameters
    ids = scene.ids()
    refused = {}
    for method, path, operation in _operations(api):
        if method != "get":
            continue
        url = re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)
        for parameter in (p["name"] for p in operation.get("parameters", []) if p["in"] == "query"):
            # When the parameter alone holds a NUL byte
            refused[f"{url}?{parameter}"] = api.get(url, {parameter: "a\x00b"}).status_code

    # Then the schema refuses it (a 422 naming it), before any query could meet the database
    assert len(refused) > 15
    assert {name: status for name, status in refused.items() if status != 422} == {}
    assert [r for r in caplog.records if r.getMessage() == "api.data_error"] == []
    assert errors_logged() == []


@pytest.mark.parametrize("bad", [*HUGE_IDS, -1, 0, "²", "١٢"])
def test_an_api_id_that_no_row_can_have_is_a_4xx(scene, api, errors_logged, bad):
    # Given every operation of the schema that names an object, called with an id no row can have
    statuses = {}
    for method, path, _ in _operations(api):
        if "{" not in path:
            continue
        url = re.sub(r"{(\w+)}", str(bad), path)
        response = api.generic(method.upper(), url, "{}", content_type="application/json")
        statuses[f"{method} {url}"] = response.status_code

    # Then each is refused or not found, and nothing is logged as an error
    assert statuses and {name: s for name, s in statuses.items() if not 400 <= s < 500} == {}
    assert errors_logged() == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/ask/", {"question": "How long do refunds take?", "labels": ["\x00"]}),
        ("/api/v1/ask/", {"question": "How long\x00 do refunds take?"}),
        ("/api/v1/reports", {"template": "refunds", "documents": [1], "label": "a\x00b"}),
        ("/api/v1/extractions", {"schema": "te\x00rms", "documents": [1]}),
        ("/api/v1/sources/", {"kind": "folder", "name": "Share\x00", "config": {"path": "/srv/share"}}),
        ("/api/v1/sources/", {"kind": "folder", "name": "Share", "config": {"path": "/srv/sh\x00are"}}),
    ],
)
def test_a_nul_byte_inside_a_json_body_is_a_422(scene, api, errors_logged, path, body):
    response = api.post(path, json.dumps(body), content_type="application/json")

    assert response.status_code == 422, response.content[:300]
    assert errors_logged() == []
