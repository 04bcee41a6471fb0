"""Document pages: list, detail, live status partial, upload, retry, archive, rename, download."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from citadel.documents.models import Document
from tests.factories import make_document

TEXT = b"# Canteen\n\nThe canteen serves soup on Mondays.\n"


@pytest.fixture
def admin_user(world):
    return world.user("ada", "acme", role="admin")


@pytest.fixture
def admin(world, admin_user):
    return world.principal("ada", "acme", role="admin")


def test_list_and_detail_show_state_and_chunks(admin, admin_user, ingest, login):
    version = ingest(admin, "canteen.md", TEXT)
    client = login(admin_user)

    listing = client.get(reverse("documents:list"))
    detail = client.get(reverse("documents:detail", args=[version.document_id]))

    assert listing.status_code == 200 and b"Canteen" in listing.content
    # Nothing in progress: the rows do not poll.
    assert b"badge-ready" in listing.content and b'id="document-rows" hx-get' not in listing.content
    assert detail.status_code == 200
    assert f"{version.chunks_done} of {version.chunks_total} chunks".encode() in detail.content


def test_status_partial_polls_while_in_progress_and_stops_when_done(admin, admin_user, ingest, login):
    version = ingest(admin, "canteen.md", TEXT, run=False)
    client = login(admin_user)
    url = reverse("documents:status", args=[version.document_id])

    waiting = client.get(url, headers={"HX-Request": "true"})
    from citadel.ingestion.services import version_run

    version_run(version_id=version.pk)
    done = client.get(url, headers={"HX-Request": "true"})

    assert b'hx-trigger="every 2s"' in waiting.content and b"badge-uploaded" in waiting.content
    assert b"<html" not in waiting.content
    assert b"hx-trigger" not in done.content and b"badge-ready" in done.content


def test_failed_version_shows_the_reason_and_a_retry_button(admin, admin_user, ingest, login):
    version = ingest(admin, "empty.txt", b"")
    client = login(admin_user)

    page = client.get(reverse("documents:detail", args=[version.document_id]))

    assert b"The file is empty." in page.content
    assert reverse("documents:retry", args=[version.document_id, 1]).encode() in page.content


def test_upload_several_files_at_once_with_a_team_restriction(
    admin_user, world, login, django_capture_on_commit_callbacks
):
    team = world.org("acme").teams.create(name="Legal")
    client = login(admin_user)
    files = [SimpleUploadedFile("a.md", TEXT), SimpleUploadedFile("b.txt", b"Parking is on level 3.")]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents:upload"), {"files": files, "teams": [team.pk]})

    assert response.status_code == 302
    documents = Document.objects.filter(organization__slug="acme").order_by("external_id")
    assert [d.external_id for d in documents] == ["a", "b"]
    assert all(d.current_version.status == "ready" for d in documents)
    assert {g.team_id for d in documents for g in d.grants.all()} == {team.pk}


def test_upload_without_files_is_a_form_error(admin_user, login):
    response = login(admin_user).post(reverse("documents:upload"), {})

    assert response.status_code == 400 and b"Choose at least one file." in response.content


def test_retry_and_archive_buttons(admin, admin_user, ingest, login, django_capture_on_commit_callbacks):
    failed = ingest(admin, "empty.txt", b"")
    client = login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("documents:retry", args=[failed.document_id, 1]))
    archived = client.post(reverse("documents:archive", args=[failed.document_id]))

    failed.refresh_from_db()
    assert failed.attempts == 1 and failed.status in {"failed", "archived"}
    assert archived.status_code == 302
    assert Document.objects.get(pk=failed.document_id).archived_at is not None


def test_members_cannot_archive(admin, ingest, world, login):
    version = ingest(admin, "canteen.md", TEXT)
    member = world.user("max", "acme")

    response = login(member).post(reverse("documents:archive", args=[version.document_id]))

    assert response.status_code == 403


def test_download_is_an_attachment_with_a_safe_name_and_nosniff(admin, admin_user, ingest, login):
    version = ingest(admin, 'evil"<name>.md', TEXT)

    response = login(admin_user).get(reverse("documents:download", args=[version.document_id, 1]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="evil_name_.md"'
    assert b"".join(response.streaming_content) == TEXT


def test_other_organizations_documents_are_404_everywhere(admin, ingest, world, login):
    version = ingest(admin, "canteen.md", TEXT)
    outsider = world.user("gus", "globex", role="admin")
    client = login(outsider)
    doc = version.document_id

    urls = [
        ("get", reverse("documents:detail", args=[doc])),
        ("get", reverse("documents:status", args=[doc])),
        ("get", reverse("documents:download", args=[doc, 1])),
        ("get", reverse("documents:inspect", args=[doc, 1])),
        ("get", reverse("documents:text", args=[doc, 1])),
        ("post", reverse("documents:archive", args=[doc])),
        ("post", reverse("documents:retry", args=[doc, 1])),
    ]

    assert [getattr(client, method)(url).status_code for method, url in urls] == [404] * 7
    assert b"Canteen" not in client.get(reverse("documents:list")).content


def test_a_member_without_a_grant_cannot_download(admin, ingest, world, login):
    version = ingest(admin, "canteen.md", TEXT, users=[world.user("ada", "acme", role="admin")])
    member = world.user("max", "acme")

    response = login(member).get(reverse("documents:download", args=[version.document_id, 1]))

    assert response.status_code == 404


def test_inspecting_a_version_shows_how_it_was_read_and_its_chunks(admin, admin_user, ingest, login):
    from tests.files import xlsx_bytes

    rows = [["Vehicle", "Per mile"], ["Car", 0.67], ["Bicycle", 0.2]]
    version = ingest(admin, "mileage.xlsx", xlsx_bytes({"Rates": rows, "Old": [["a"], ["b"]]}, hidden=("Old",)))
    client = login(admin_user)

    html = client.get(reverse("documents:inspect", args=[version.document_id, 1])).content.decode()

    assert "Read as" in html and "xlsx" in html
    assert "Hidden sheets (not read)" in html and "Old" in html
    assert "Rates rows 2-3" in html and "Vehicle: Bicycle | Per mile: 0.2" in html
    assert f"characters 0–{version.chunks.get().char_end}" in html
    assert "Inspect" in client.get(reverse("documents:detail", args=[version.document_id])).content.decode()
    text = client.get(reverse("documents:text", args=[version.document_id, 1]))
    assert text["Content-Type"].startswith("text/plain") and text["X-Content-Type-Options"] == "nosniff"
    assert text.content.decode() == version.text


def test_inspecting_a_scan_shows_which_pages_were_read_by_ocr_and_how_well(admin, admin_user, ingest, login):
    from tests.files import mixed_pdf_bytes

    version = ingest(
        admin, "travel.pdf", mixed_pdf_bytes("The meal allowance is 40 euros a day.", ["Hotels: 180 euros."])
    )

    html = login(admin_user).get(reverse("documents:inspect", args=[version.document_id, 1])).content.decode()

    assert "Pages read from their image by OCR</dt><dd>2</dd>" in html
    assert "1 page came from the file's text layer" in html
    confidence = version.pages.get(number=2).ocr_confidence
    assert f"<tr><td>2</td><td>{confidence:.0f}%</td></tr>" in html
    assert f"page 2 · read by OCR ({confidence:.0f}%)" in html


def test_an_admin_without_a_grant_sees_the_document_but_cannot_inspect_its_text(admin, ingest, world, login):
    # Given a document restricted to ann, when another admin of the organization opens its pages,
    version = ingest(admin, "canteen.md", TEXT, users=[world.user("ann", "acme", role="member")])
    other_admin = login(world.user("abe", "acme", role="admin"))

    # then the state page is theirs to see, without links to the content, which stays hidden.
    detail = other_admin.get(reverse("documents:detail", args=[version.document_id]))
    assert detail.status_code == 200 and b"Inspect" not in detail.content and b"Download" not in detail.content
    for name in ("documents:inspect", "documents:text"):
        response = other_admin.get(reverse(name, args=[version.document_id, 1]))
        assert response.status_code == 404 and b"soup" not in response.content


def test_the_uploader_renames_a_document_from_its_page(world, ingest, login):
    # Given a document a member uploaded
    member = world.user("max", "acme")
    version = ingest(world.principal("max", "acme"), "canteen.md", TEXT)
    client = login(member)
    page = client.get(reverse("documents:detail", args=[version.document_id])).content.decode()
    assert reverse("documents:rename", args=[version.document_id]) in page

    # When they save a new title in its form
    response = client.post(reverse("documents:rename", args=[version.document_id]), {"title": "Staff canteen"})

    # Then the page shows it, and the external id is unchanged
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "<h1>Staff canteen</h1>" in page and "<code>canteen</code>" in page


def test_a_reader_who_did_not_upload_the_document_sees_no_rename_form_and_is_refused(admin, ingest, world, login):
    version = ingest(admin, "canteen.md", TEXT)
    client = login(world.user("rob", "acme"))

    page = client.get(reverse("documents:detail", args=[version.document_id])).content.decode()
    refused = client.post(reverse("documents:rename", args=[version.document_id]), {"title": "Rob's"})
    foreign = login(world.user("gus", "globex", role="admin")).post(
        reverse("documents:rename", args=[version.document_id]), {"title": "Globex's"}
    )

    assert reverse("documents:rename", args=[version.document_id]) not in page
    assert refused.status_code == 403 and foreign.status_code == 404
    assert Document.objects.get(pk=version.document_id).title == "Canteen"


def test_an_empty_title_is_refused_with_a_message(admin, admin_user, ingest, login):
    version = ingest(admin, "canteen.md", TEXT)
    client = login(admin_user)

    response = client.post(reverse("documents:rename", args=[version.document_id]), {"title": "  "}, follow=True)

    assert "The title must be 1 to 500 characters." in response.content.decode()
    assert Document.objects.get(pk=version.document_id).title == "Canteen"


def test_a_reader_asks_about_a_document_from_its_page_and_an_admin_without_a_grant_is_not_offered_it(world, login):
    org = world.org("acme")
    ann = world.user("ann", org)
    document = make_document(org, "canteen", ["The canteen serves soup on Mondays."], grants=[ann])
    link = f'href="{reverse("answers:ask")}?document={document.pk}">Ask about this document</a>'

    as_reader = login(ann).get(reverse("documents:detail", args=[document.pk])).content.decode()
    as_admin = login(world.user("abe", org, role="admin")).get(reverse("documents:detail", args=[document.pk]))

    assert link in as_reader
    assert as_admin.status_code == 200 and "Ask about this document" not in as_admin.content.decode()
