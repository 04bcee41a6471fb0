"""GET and POST /documents/{id}/summary: a reader reads or requests the summary; others get 404."""

from django.core.files.base import ContentFile

from citadel.accounts.models import Organization
from citadel.documents.services import document_upload
from citadel.ingestion.services import version_run
from tests.api.conftest import ApiClient

POLICY = b"# Hotels\n\nHotel costs are reimbursed up to 180 euros per night in capital cities.\n"


def test_a_reader_reads_and_requests_a_summary_and_others_get_404(client, world, token_for):
    Organization.objects.filter(slug="acme").update(summary_mode="on_demand")
    ada = ApiClient(client, token_for("ada", "acme", role="admin"))
    max_ = ApiClient(client, token_for("max", "acme"))
    upload = document_upload(
        principal=world.principal("ada", "acme", role="admin"),
        file=ContentFile(POLICY, name="hotels.md"),
        filename="hotels.md",
        users=[world.user("ada", "acme", role="admin")],
        enqueue=False,
    )
    version_run(version_id=upload.version.pk)
    path = f"/documents/{upload.document.pk}/summary"

    before = ada.get(path)
    requested = ada.post(path)

    assert before.status_code == 200 and before.json()["status"] == "none"
    assert requested.status_code == 202 and requested.json()["status"] == "queued"
    assert max_.get(path).status_code == 404 and max_.post(path).status_code == 404
