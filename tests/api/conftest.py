"""API fixtures: bearer tokens for users of two organizations, and a small client that sends them."""

import json

import pytest

from citadel.accounts.services import api_token_create

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
