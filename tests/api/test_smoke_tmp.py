import pytest
from tests.api.conftest import assert_problem
from tests.factories import make_document

pytestmark = pytest.mark.django_db

def test_smoke(api, anonymous, world):
    ann = api("ann", "acme", role="admin")
    doc = make_document(world.org("acme"), "handbook", ["Refunds take 14 days.", "Shipping is free."])
    r = ann.get("/documents/")
    print(r.status_code, r.content[:2000])
    r = ann.get(f"/documents/{doc.pk}")
    print(r.status_code, r.content[:3000])
    r = ann.get("/search/", {"q": "refunds"})
    print(r.status_code, r.content[:2000])
    r = anonymous.get("/documents/")
    print(r.status_code, r.headers, r.content)
    r = ann.client.get("/api/v1/openapi.json")
    print(r.status_code, len(r.content))
    r = ann.client.get("/api/v1/docs")
    print(r.status_code, r.content[:300])
