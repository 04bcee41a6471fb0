"""Bearer tokens and the organization a request acts in; the schema and docs are public."""

import pytest
from django.utils import timezone

from citadel.accounts.models import ApiToken
from tests.api.conftest import API, ApiClient, assert_problem

pytestmark = pytest.mark.django_db


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(anonymous):
    response = anonymous.get("/documents/")
    assert_problem(response, 401, "authentication_required")
    assert response["WWW-Authenticate"] == 'Bearer realm="citadel"'


@pytest.mark.parametrize("header", ["Bearer cit_not-a-real-token", "Bearer ", "Basic YW5uOnB3", "cit_abc"])
def test_a_bad_token_is_401_invalid_token(client, world, header):
    world.user("ann", "acme", role="admin")
    response = client.get(f"{API}/documents/", headers={"Authorization": header})
    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_revoked_token_is_401(client, token_for):
    token = token_for("ann", "acme", role="admin")
    ApiToken.objects.update(revoked_at=timezone.now())
    assert_problem(ApiClient(client, token).get("/documents/"), 401, "token_revoked")


def test_a_token_of_a_deactivated_user_is_401(client, token_for):
    token = token_for("ann", "acme", role="admin")
    ApiToken.objects.get().user.__class__.objects.filter(username="ann").update(is_active=False)
    assert_problem(ApiClient(client, token).get("/documents/"), 401, "invalid_token")


def test_using_a_token_records_when_it_was_last_used(client, token_for):
    token = token_for("ann", "acme", role="admin")
    assert ApiToken.objects.get().last_used_at is None
    assert ApiClient(client, token).get("/documents/").status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_a_browser_session_does_not_authenticate_the_api(client, world):
    # The API is bearer-only, so no cookie can ride along on a cross-site request
    client.force_login(world.user("ann", "acme", role="admin"))
    assert_problem(client.get(f"{API}/documents/"), 401, "authentication_required")


def test_a_member_of_several_organizations_must_name_one(client, world, token_for):
    token = token_for("ann", "acme", role="admin")
    world.user("ann", "globex", role="member")

    assert_problem(ApiClient(client, token).get("/documents/"), 400, "organization_required")
    assert ApiClient(client, token, org="globex").get("/documents/").status_code == 200
    assert_problem(ApiClient(client, token, org="initech").get("/documents/"), 404, "organization_not_found")
    assert_problem(ApiClient(client, token, org="bad slug\t").get("/documents/"), 404, "organization_not_found")


def test_the_org_header_chooses_the_role_too(client, world, token_for):
    # Given ann, an admin of acme but only a member of globex
    token = token_for("ann", "acme", role="admin")
    world.user("ann", "globex", role="member")
    # Then admin-only endpoints follow the organization she acts in
    assert ApiClient(client, token, org="acme").get("/evaluation/sets").status_code == 200
    assert_problem(ApiClient(client, token, org="globex").get("/evaluation/sets"), 403)


def test_a_user_without_membership_is_403(client, world):
    from django.contrib.auth import get_user_model

    from citadel.accounts.services import api_token_create

    loner = get_user_model().objects.create_user("loner")
    _, token = api_token_create(user=loner)
    assert_problem(ApiClient(client, token).get("/documents/"), 403, "no_membership")


def test_the_schema_and_docs_need_no_login(client):
    schema = client.get(f"{API}/openapi.json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    docs = client.get(f"{API}/docs")
    assert docs.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content  # served locally: the CSP allows no CDN


def test_the_schema_documents_errors_as_problem_details(client):
    schema = client.get(f"{API}/openapi.json").json()
    detail = schema["paths"][f"{API}/documents/{{document_id}}"]["get"]["responses"]
    assert set(detail["404"]["content"]) == {"application/problem+json"}
    assert set(detail["200"]["content"]) == {"application/json"}


def test_bearer_requests_need_no_csrf_token(scenario):
    from django.test import Client

    strict = ApiClient(Client(enforce_csrf_checks=True), scenario.ann_token)
    assert strict.post(f"/documents/{scenario.payroll.pk}/grants", {"team": "support"}).status_code == 201
