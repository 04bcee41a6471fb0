"""Documents over the API: upload with restrictions, list, detail, rename, versions, retry, archive,
delete, download, grants; the roles allowed to act; 413 for oversized uploads."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from citadel.documents.models import Document, DocumentVersion, VersionStatus
from tests.api.conftest import API, ApiClient, assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(api_client: ApiClient, name: str, content: bytes, **fields):
    return api_client.upload("/documents/", {"file": SimpleUploadedFile(name, content), **fields})


def test_an_upload_restricted_to_a_team_is_readable_by_that_team_only(scenario, as_user, token_for):
    ann, bob = as_user(scenario.ann_token), as_user(scenario.bob_token)
    carl = as_user(token_for("carl", "acme"))  # a member outside the support team

    response = upload(ann, "escalations.txt", b"Escalate to tier two after one hour.", teams=["support"])

    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True and body["version"] == 1
    document = body["document"]
    assert document["external_id"] == "escalations"
    assert document["status"] == "uploaded"  # never "ready" at upload
    assert document["latest_version"]["progress"] == {"step": 1, "steps": 7, "chunks_done": 0, "chunks_total": 0}
    assert [(g["scope"], g["team"]) for g in document["grants"]] == [("team", "support")]
    assert bob.get(f"/documents/{document['id']}").status_code == 200
    assert_problem(carl.get(f"/documents/{document['id']}"), 404)


def test_an_upload_restricted_to_users_and_the_same_file_again(scenario, as_user):
    ann = as_user(scenario.ann_token)
    first = upload(ann, "memo.txt", b"Quarterly numbers.", users=["rita", "ann"], title="Q3 memo")
    assert first.status_code == 201
    grants = first.json()["document"]["grants"]
    assert sorted(g["user"] for g in grants) == ["ann", "rita"]
    assert first.json()["document"]["title"] == "Q3 memo"

    again = upload(ann, "memo.txt", b"Quarterly numbers.")
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert Document.objects.get(external_id="memo").versions.count() == 1


def test_an_upload_to_an_unknown_team_or_outsider_is_refused(scenario, as_user):
    ann = as_user(scenario.ann_token)
    assert_problem(upload(ann, "a.txt", b"x", teams=["nobody"]), 422, "unknown_team")
    assert_problem(upload(ann, "a.txt", b"x", users=["gus"]), 422, "unknown_user")
    assert_problem(ann.upload("/documents/", {"external_id": "no-file"}), 422, "validation_error")
    assert not Document.objects.filter(external_id="a").exists()


def test_an_oversized_upload_is_413(scenario, as_user, settings):
    settings.CITADEL = {**settings.CITADEL, "MAX_UPLOAD_BYTES": 100}
    ann = as_user(scenario.ann_token)
    assert_problem(upload(ann, "big.txt", b"x" * 101), 413, "payload_too_large")
    # A body far beyond the limit is refused from its Content-Length, before it is read
    assert_problem(upload(ann, "huge.txt", b"x" * 200_000), 413, "payload_too_large")
    assert upload(ann, "small.txt", b"x" * 100).status_code == 201


def test_the_list_filters_and_paginates(scenario, as_user):
    ann, bob = as_user(scenario.ann_token), as_user(scenario.bob_token)
    DocumentVersion.objects.filter(document=scenario.payroll).update(
        status=VersionStatus.FAILED, error_class="ParseError", error_message="The PDF is encrypted."
    )

    everything = ann.get("/documents/").json()
    assert everything["count"] == 2
    assert {d["external_id"] for d in everything["items"]} == {"handbook", "payroll"}
    # Members see what they may read (the payroll memo is ann's alone)
    assert [d["external_id"] for d in bob.get("/documents/").json()["items"]] == ["handbook"]

    assert [d["external_id"] for d in ann.get("/documents/", {"status": "failed"}).json()["items"]] == ["payroll"]
    assert [d["external_id"] for d in ann.get("/documents/", {"q": "hand"}).json()["items"]] == ["handbook"]
    assert ann.get("/documents/", {"external_id": "payroll"}).json()["count"] == 1
    page = ann.get("/documents/", {"limit": 1, "offset": 1}).json()
    assert (page["count"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)

    invalid = assert_problem(ann.get("/documents/", {"limit": 0, "status": "bogus"}), 422, "validation_error")
    assert {tuple(e["loc"]) for e in invalid["errors"]} == {("query", "limit"), ("query", "status")}


def test_the_detail_shows_state_progress_versions_and_error(scenario, as_user):
    ann = as_user(scenario.ann_token)
    DocumentVersion.objects.filter(document=scenario.payroll).update(
        status=VersionStatus.FAILED, error_class="ParseError", error_message="The PDF is encrypted."
    )
    detail = ann.get(f"/documents/{scenario.payroll.pk}").json()
    assert detail["status"] == "failed"
    assert detail["current_version"] == 1
    (version,) = detail["versions"]
    assert version["error"] == {"error_class": "ParseError", "message": "The PDF is encrypted."}
    assert version["progress"]["step"] is None
    assert version["download_url"].endswith(f"{API}/documents/{scenario.payroll.pk}/versions/1/file")

    ready = ann.get(f"/documents/{scenario.handbook.pk}").json()
    assert ready["status"] == "ready"
    assert ready["latest_version"]["progress"] == {"step": 7, "steps": 7, "chunks_done": 2, "chunks_total": 2}


def test_members_see_no_grants_and_no_document_they_may_not_read(scenario, as_user):
    bob = as_user(scenario.bob_token)
    assert bob.get(f"/documents/{scenario.handbook.pk}").json()["grants"] is None
    assert_problem(bob.get(f"/documents/{scenario.payroll.pk}"), 404)
    assert_problem(bob.get("/documents/999999999"), 404)


def test_a_new_version_by_an_admin_and_not_by_a_reader(scenario, as_user):
    ann, bob = as_user(scenario.ann_token), as_user(scenario.bob_token)
    path = f"/documents/{scenario.handbook.pk}/versions"

    response = ann.upload(path, {"file": SimpleUploadedFile("handbook-2.txt", b"Refunds take 10 days.")})
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 2
    assert [v["number"] for v in body["document"]["versions"]] == [2, 1]
    assert body["document"]["current_version"] == 1  # v2 serves once it is ready

    assert_problem(bob.upload(path, {"file": SimpleUploadedFile("h.txt", b"Mine now.")}), 403)


def test_retrying_a_failed_version(scenario, as_user):
    ann = as_user(scenario.ann_token)
    DocumentVersion.objects.filter(document=scenario.payroll).update(status=VersionStatus.FAILED, error_class="X")
    response = ann.post(f"/documents/{scenario.payroll.pk}/versions/1/retry")
    assert response.status_code == 200
    assert response.json()["versions"][0]["status"] == "uploaded"
    assert_problem(ann.post(f"/documents/{scenario.handbook.pk}/versions/1/retry"), 409, "invalid_transition")
    assert_problem(ann.post(f"/documents/{scenario.handbook.pk}/versions/9/retry"), 404)


def test_archiving_takes_a_document_out_of_search(scenario, as_user):
    ann, bob = as_user(scenario.ann_token), as_user(scenario.bob_token)
    path = f"/documents/{scenario.handbook.pk}/archive"

    assert_problem(bob.post(path), 403, "forbidden")
    response = ann.post(path)
    assert response.status_code == 200
    assert response.json()["status"] == "archived"
    assert bob.get("/search/", {"q": "refunds"}).json() == []
    assert_problem(ann.post(path), 409)


def test_deleting_a_document(scenario, as_user):
    ann, bob = as_user(scenario.ann_token), as_user(scenario.bob_token)
    path = f"/documents/{scenario.handbook.pk}"
    assert_problem(bob.delete(path), 403)
    assert ann.delete(path).status_code == 204
    assert_problem(ann.get(path), 404)


def test_downloading_the_original_is_an_attachment_never_sniffed(scenario, as_user):
    ann, bob = as_user(scenario.ann_token), as_user(scenario.bob_token)
    content = b"<html><script>alert(1)</script></html>"
    document = upload(ann, "page.html", content).json()["document"]

    for path in (f"/documents/{document['id']}/file", f"/documents/{document['id']}/versions/1/file"):
        response = bob.get(path)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == content
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith('attachment; filename="page.html"')
        assert response["X-Content-Type-Options"] == "nosniff"

    # The payroll memo is ann's alone; its (factory-made) file was never stored
    assert_problem(bob.get(f"/documents/{scenario.payroll.pk}/file"), 404)
    assert_problem(ann.get(f"/documents/{scenario.payroll.pk}/file"), 404, "file_missing")


def test_admins_grant_and_revoke_read_access(scenario, as_user):
    ann, bob = as_user(scenario.ann_token), as_user(scenario.bob_token)
    grants = f"/documents/{scenario.payroll.pk}/grants"
    assert_problem(bob.get(f"/documents/{scenario.payroll.pk}"), 404)

    created = ann.post(grants, {"team": "support"})
    assert created.status_code == 201
    assert created.json()["scope"] == "team"
    assert bob.get(f"/documents/{scenario.payroll.pk}").status_code == 200
    assert {g["scope"] for g in ann.get(grants).json()} == {"user", "team"}

    assert ann.delete(f"{grants}/{created.json()['id']}").status_code == 204
    assert_problem(bob.get(f"/documents/{scenario.payroll.pk}"), 404)
    assert_problem(ann.post(grants, {"team": "support", "user": "bob"}), 422)


def test_members_may_not_manage_grants(scenario, as_user):
    bob = as_user(scenario.bob_token)
    grants = f"/documents/{scenario.handbook.pk}/grants"
    assert_problem(bob.get(grants), 403)
    assert_problem(bob.post(grants, {"user": "bob"}), 403)
    assert_problem(bob.delete(f"{grants}/{scenario.grant.pk}"), 403)
    assert scenario.handbook.grants.count() == 1


def _rename(api_client: ApiClient, document_id: int, title: str):
    return api_client.client.patch(
        f"{API}/documents/{document_id}",
        data=json.dumps({"title": title}),
        content_type="application/json",
        headers=api_client.headers(),
    )


def test_the_uploader_renames_a_document_and_its_external_id_stays(scenario, as_user):
    bob = as_user(scenario.bob_token)
    document = upload(bob, "escalations.txt", b"Escalate to tier two after one hour.").json()["document"]

    response = _rename(bob, document["id"], "Escalation rules")

    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["external_id"]) == ("Escalation rules", "escalations")
    assert set(body) == set(bob.get(f"/documents/{document['id']}").json())


def test_an_admin_renames_any_document_of_the_organization(scenario, as_user):
    response = _rename(as_user(scenario.ann_token), scenario.handbook.pk, "Customer handbook")

    assert response.status_code == 200 and response.json()["title"] == "Customer handbook"


def test_a_reader_who_is_not_the_uploader_may_not_rename_and_others_do_not_see_the_document(scenario, as_user):
    bob, gus = as_user(scenario.bob_token), as_user(scenario.gus_token)

    assert_problem(_rename(bob, scenario.handbook.pk, "Bob's handbook"), 403)
    assert_problem(_rename(bob, scenario.payroll.pk, "Payroll"), 404)
    assert_problem(_rename(gus, scenario.handbook.pk, "Globex now"), 404)
    assert_problem(_rename(as_user(scenario.ann_token), scenario.handbook.pk, ""), 422, "validation_error")
    scenario.handbook.refresh_from_db()
    assert scenario.handbook.title == "Handbook"
