"""Cross-organization access on every endpoint: a globex admin's token against acme's ids gets
404 (exactly like a missing id) and lists without acme's rows. The last test holds this list
to the schema, so an endpoint cannot be added without its cross-organization case."""

import pytest

from citadel.answers.models import Question
from citadel.console.services import console_refresh
from citadel.gaps.services import gaps_refresh
from tests.api.conftest import API, assert_problem

pytestmark = pytest.mark.django_db


def _single_object_calls(s) -> list[tuple[str, str, dict | None]]:
    d, a, i, r = s.handbook.pk, s.answer.pk, s.review_item.pk, s.run.pk
    return [
        ("GET", f"/documents/{d}", None),
        ("PATCH", f"/documents/{d}", {"title": "Renamed from globex"}),
        ("POST", f"/documents/{d}/versions", {"file": ("v2.txt", b"new text")}),
        ("POST", f"/documents/{d}/versions/1/retry", None),
        ("POST", f"/documents/{d}/archive", None),
        ("DELETE", f"/documents/{d}", None),
        ("GET", f"/documents/{d}/file", None),
        ("GET", f"/documents/{d}/versions/1/file", None),
        ("GET", f"/documents/{d}/grants", None),
        ("POST", f"/documents/{d}/grants", {}),
        ("DELETE", f"/documents/{d}/grants/{s.grant.pk}", None),
        ("GET", f"/documents/{d}/summary", None),
        ("POST", f"/documents/{d}/summary", None),
        ("GET", f"/answers/{a}", None),
        ("GET", f"/answers/{a}/receipt", None),
        ("POST", f"/answers/{a}/feedback", {"helpful": True}),
        ("GET", f"/threads/{s.answer.question.thread_id}", None),
        ("GET", f"/review/items/{i}", None),
        ("POST", f"/review/items/{i}/decision", {"decision": "approve"}),
        ("POST", "/evaluation/runs", {"eval_set_id": s.eval_set.pk}),
        ("GET", f"/evaluation/runs/{r}", None),
        ("GET", f"/reports/{s.report.pk}", None),
        ("POST", "/reports", {"template": "refund-check", "documents": ["handbook"]}),
        ("GET", f"/extractions/{s.extraction.pk}", None),
        ("POST", "/extractions", {"schema": "refund-terms", "documents": ["handbook"]}),
        ("GET", f"/sources/{s.source.pk}", None),
        ("POST", f"/sources/{s.source.pk}/syncs", None),
        ("GET", f"/sources/{s.source.pk}/syncs", None),
        ("POST", f"/runs/reports/{s.report.pk}/cancel", None),
        ("POST", f"/notifications/{s.path_ids()['notification_id']}/read", None),
    ]


def _call(api_client, method: str, path: str, body):
    if method == "GET":
        return api_client.get(path)
    if method == "DELETE":
        return api_client.delete(path)
    if method == "PATCH":
        return api_client.patch(path, body)
    if body and "file" in body:
        from django.core.files.uploadedfile import SimpleUploadedFile

        name, content = body["file"]
        return api_client.upload(path, {"file": SimpleUploadedFile(name, content)})
    return api_client.post(path, body)


def test_another_organizations_objects_are_not_found_on_every_endpoint(scenario, as_user):
    # Given a globex admin (the most powerful role) and acme's objects
    gus = as_user(scenario.gus_token)
    for method, path, body in _single_object_calls(scenario):
        # When they call an endpoint with an acme id, then it is a 404, as for a missing id
        response = _call(gus, method, path, body)
        assert_problem(response, 404)
    # And nothing of acme's changed
    scenario.handbook.refresh_from_db()
    assert scenario.handbook.archived_at is None
    assert scenario.handbook.title != "Renamed from globex"
    assert scenario.handbook.grants.filter(pk=scenario.grant.pk).exists()
    scenario.report.refresh_from_db()
    assert scenario.report.cancelled_at is None


def test_lists_and_search_of_another_organization_show_none_of_acmes_rows(scenario, as_user):
    gus = as_user(scenario.gus_token)

    documents = gus.get("/documents/").json()
    assert [d["external_id"] for d in documents["items"]] == ["globex-handbook"]
    assert gus.get("/documents/", {"external_id": "handbook"}).json()["count"] == 0

    hits = gus.get("/search/", {"q": "refunds take days", "k": 20}).json()
    assert {h["external_id"] for h in hits} == {"globex-handbook"}
    assert gus.get("/search/", {"q": "refunds", "document_id": scenario.handbook.pk}).json() == []

    assert gus.get("/review/queue").json()["count"] == 0
    assert gus.get("/evaluation/sets").json() == []
    assert gus.get("/evaluation/runs").json() == []
    assert gus.get("/reports/templates").json() == []
    assert gus.get("/extractions/schemas").json() == []
    assert gus.get("/sources/").json() == []
    assert gus.get("/notifications/").json()["count"] == 0
    assert gus.post("/notifications/read-all").json() == {"marked": 0}

    # The console's figures and gaps, freshly computed for both organizations, are Globex's alone.
    for organization in (scenario.acme, scenario.globex):
        console_refresh(organization=organization)
        gaps_refresh(organization=organization, force=True)
    globex_questions = Question.objects.filter(organization=scenario.globex, origin="ask").count()
    assert gus.get("/usage/").json()["questions"] == globex_questions
    gaps = gus.get("/gaps/").json()["gaps"]
    acme_questions = set(Question.objects.filter(organization=scenario.acme).values_list("text", flat=True))
    assert not acme_questions & {example for gap in gaps for example in gap["examples"]}

    export = gus.get("/audit/events.jsonl")
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines and all(f'"organization_id": {scenario.globex.pk},' in line for line in lines)


def test_asking_in_another_organization_cites_only_its_documents(scenario, as_user):
    gus = as_user(scenario.gus_token)
    answer = gus.post("/ask/", {"question": "How long do refunds take?"}).json()
    assert {c["external_id"] for c in answer["citations"]} <= {"globex-handbook"}


def test_every_operation_of_the_schema_has_a_cross_organization_case(scenario, client):
    schema = client.get(f"{API}/openapi.json").json()
    operations = {(m.upper(), p.removeprefix(API)) for p, item in schema["paths"].items() for m in item}
    covered = {(method, _template(path, scenario)) for method, path, _ in _single_object_calls(scenario)} | {
        ("GET", "/documents/"),
        ("POST", "/documents/"),  # creates in the caller's own organization only; see test_documents
        ("GET", "/search/"),
        ("POST", "/ask/"),
        ("GET", "/review/queue"),
        ("GET", "/evaluation/sets"),
        ("GET", "/evaluation/runs"),
        ("GET", "/audit/events.jsonl"),
        ("GET", "/reports/templates"),
        ("GET", "/extractions/schemas"),
        ("GET", "/sources/"),
        ("POST", "/sources/"),  # creates in the caller's own organization only; see tests/sources
        ("GET", "/notifications/"),
        ("POST", "/notifications/read-all"),
        ("GET", "/usage/"),
        ("GET", "/gaps/"),
        # The caller's own choice, in every organization; see test_notifications
        ("GET", "/notifications/preferences"),
        ("PUT", "/notifications/preferences"),
    }
    assert operations == covered


def _template(path: str, s) -> str:
    replacements = [
        (f"/runs/reports/{s.report.pk}/", "/runs/{kind}/{run_id}/"),
        (f"/documents/{s.handbook.pk}", "/documents/{document_id}"),
        ("/versions/1/", "/versions/{number}/"),
        (f"/grants/{s.grant.pk}", "/grants/{grant_id}"),
        (f"/answers/{s.answer.pk}", "/answers/{answer_id}"),
        (f"/threads/{s.answer.question.thread_id}", "/threads/{thread_id}"),
        (f"/review/items/{s.review_item.pk}", "/review/items/{item_id}"),
        (f"/evaluation/runs/{s.run.pk}", "/evaluation/runs/{run_id}"),
        (f"/reports/{s.report.pk}", "/reports/{report_id}"),
        (f"/extractions/{s.extraction.pk}", "/extractions/{extraction_id}"),
        (f"/sources/{s.source.pk}", "/sources/{source_id}"),
        (f"/notifications/{s.path_ids()['notification_id']}/", "/notifications/{notification_id}/"),
    ]
    for old, new in replacements:
        path = path.replace(old, new)
    return path
