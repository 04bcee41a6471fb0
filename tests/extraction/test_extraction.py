"""Extraction into a table: a schema's fields read out of each document, as the runner, each value
cited to its sentence with a confidence; low-confidence and missing values wait for a reviewer;
rows of documents a reader may not read are left out of the table, the JSON and the CSV."""

import csv
import io
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Membership, Team
from citadel.audit.models import AuditEvent
from citadel.audit.services import content_digest
from citadel.core.errors import InvalidInput, NotFound, PermissionDenied
from citadel.extraction import services
from citadel.extraction.models import Extraction, ExtractionStatus, ExtractionValue, ValueStatus
from citadel.extraction.selectors import extraction_csv, extraction_data, extraction_table, get_extraction
from citadel.extraction.services import (
    extraction_execute,
    extraction_schema_create,
    extraction_start,
    extraction_value_review,
)
from citadel.jobs.services import run_cancel
from tests.api.conftest import ApiClient
from tests.factories import make_document

SCHEMA = {
    "slug": "contract-terms",
    "title": "Contract terms",
    "fields": [
        {"name": "vendor", "type": "name", "guidance": "the vendor providing the services"},
        {"name": "effective_date", "type": "date", "guidance": "the date the agreement takes effect"},
        {"name": "annual_fee", "type": "amount", "guidance": "the annual fee for the services"},
        {"name": "notice_period", "type": "duration", "guidance": "notice period for termination"},
        {"name": "auto_renewal", "type": "yes_no", "guidance": "the agreement renews automatically"},
        {"name": "late_interest", "type": "percentage", "guidance": "interest on late payment"},
        {"name": "tier", "type": "choice", "choices": ["Gold", "Silver", "Bronze"], "guidance": "service tier"},
    ],
}
NORTHWIND = [
    "This Services Agreement is made between Acme Corporation (the Customer) and Northwind Traders (the Vendor).",
    "This agreement takes effect on 1 March 2026. Signed by both parties on 12 February 2026.",
    "The annual fee is $48,000 per year. A one-off setup fee of $750 is due on signature.",
    "Either party may terminate this agreement by giving 60 days' written notice. Invoices are payable within 30 days.",
    "The agreement renews automatically for successive one-year terms.",
    "Late payments bear interest at 1.5% per month. The service tier is Gold.",
]
CONTOSO = [
    "The Vendor, Contoso Cleaning, provides office cleaning to Acme Corporation under this agreement.",
    "The effective date of this agreement is July 1, 2025.",
    "The yearly service charge (the annual fee) amounts to 18,500 EUR.",
    "The notice period for termination is ninety (90) days.",
    "There is no automatic renewal: the agreement ends at the end of its term.",
]


@pytest.fixture
def setup(world):
    """Ada (admin), Max (member) and Rita (reviewer) of Procurement, Otto (a reviewer of Sales), the
    Northwind contract and Contoso's, granted to Procurement, and the contract-terms schema."""
    org = world.org("acme")
    made = {
        "org": org,
        "admin": world.principal("ada", org, role="admin", teams=["Procurement"]),
        "runner": world.principal("max", org, teams=["Procurement"]),
        "reviewer": world.principal("rita", org, role="reviewer", teams=["Procurement"]),
        "outsider": world.principal("otto", org, role="reviewer", teams=["Sales"]),
        "procurement": Team.objects.get(organization=org, name="Procurement"),
    }
    made["northwind"] = make_document(org, "northwind", NORTHWIND, title="Northwind contract")
    made["contoso"] = make_document(org, "contoso", CONTOSO, grants=[made["procurement"]], title="Contoso contract")
    extraction_schema_create(organization_id=org.pk, data=SCHEMA, principal=made["admin"])
    return made


def _start(setup, *documents: str) -> Extraction:
    """The runner's extraction of contract terms from these of the setup's documents, not queued."""
    ids = [setup[name].pk for name in documents]
    return extraction_start(principal=setup["runner"], schema_slug="contract-terms", document_ids=ids, enqueue=False)


def _run(setup) -> Extraction:
    return extraction_execute(extraction_id=_start(setup, "northwind", "contoso").pk)


def _cells(extraction, document) -> dict[str, ExtractionValue]:
    return {c.field_name: c for c in ExtractionValue.objects.filter(extraction=extraction, document=document)}


def test_a_schema_is_checked_field_by_field(setup):
    org, admin = setup["org"], setup["admin"]
    bad = [
        ({"slug": "x", "title": "X", "fields": []}, "needs a list of fields"),
        ({"slug": "x", "title": "X", "fields": [{"name": "Fee Amount", "type": "amount"}]}, "Lower-case"),
        ({"slug": "x", "title": "X", "fields": [{"name": "a"}, {"name": "a"}]}, "another field is named a"),
        ({"slug": "x", "title": "X", "fields": [{"name": "tier", "type": "choice"}]}, "at least two choices"),
    ]
    for data, message in bad:
        with pytest.raises(InvalidInput, match=message):
            extraction_schema_create(organization_id=org.pk, data=data, principal=admin)
    with pytest.raises(PermissionDenied):
        extraction_schema_create(organization_id=org.pk, data=SCHEMA, principal=setup["runner"])


def test_each_type_is_read_from_its_sentence_with_a_citation(setup):
    """Given two contracts phrased differently, when their terms are extracted, then each field has
    its normalised value, read from the sentence that states it, not from a distractor beside it."""
    extraction = _run(setup)

    northwind = _cells(extraction, setup["northwind"])
    contoso = _cells(extraction, setup["contoso"])
    assert {k: c.value for k, c in northwind.items()} == {
        "vendor": "Northwind Traders",
        "effective_date": "2026-03-01",  # not the signing date beside it
        "annual_fee": "48000 USD",  # not the setup fee
        "notice_period": "60 days",  # not the payment term
        "auto_renewal": "yes",
        "late_interest": "1.5%",
        "tier": "Gold",
    }
    assert {k: c.value for k, c in contoso.items()} == {
        "vendor": "Contoso Cleaning",
        "effective_date": "2025-07-01",
        "annual_fee": "18500 EUR",
        "notice_period": "90 days",
        "auto_renewal": "no",
        "late_interest": "",
        "tier": "",
    }
    fee = northwind["annual_fee"]
    assert (
        fee.quote == "The annual fee is $48,000 per year."
        and fee.chunk.text[fee.quote_start : fee.quote_end] == fee.quote
    )
    assert 0 < fee.confidence <= 1 and fee.version_id == setup["northwind"].current_version_id


def test_missing_and_doubtful_values_wait_for_review_and_the_last_review_makes_it_ready(setup):
    extraction = _run(setup)
    assert extraction.status == ExtractionStatus.NEEDS_REVIEW
    waiting = list(ExtractionValue.objects.filter(extraction=extraction, status=ValueStatus.NEEDS_REVIEW))
    assert {c.field_name for c in waiting} >= {"late_interest", "tier"}  # not in the Contoso contract

    for cell in waiting[:-1]:
        extraction_value_review(principal=setup["reviewer"], value_id=cell.pk)
    corrected = extraction_value_review(principal=setup["reviewer"], value_id=waiting[-1].pk, value="Silver")

    extraction.refresh_from_db()
    assert extraction.status == ExtractionStatus.READY
    assert corrected.status == ValueStatus.CORRECTED and corrected.value == "Silver"
    assert corrected.extracted_value == ""  # what the extractor read is kept beside the correction
    verbs = list(AuditEvent.objects.values_list("verb", flat=True))
    assert verbs.count("extraction.value_reviewed") == len(waiting) and "extraction.reviewed" in verbs


def test_a_reviewed_value_is_audited_by_digests_not_by_the_value(setup):
    """Given a value read from a Procurement-only contract, when a reviewer corrects it, then the
    audit event names the document, the field and the decision, and keeps digests and sizes of the
    value before and after but neither value: every admin reads the trail, while the values stay on
    the table, where each reader is checked."""
    extraction = _run(setup)
    cell = ExtractionValue.objects.get(extraction=extraction, document=setup["contoso"], field_name="annual_fee")

    extraction_value_review(principal=setup["reviewer"], value_id=cell.pk, value="18600 EUR")

    event = AuditEvent.objects.get(verb="extraction.value_reviewed")
    assert event.metadata == {
        "extraction_id": extraction.pk,
        "document_id": setup["contoso"].pk,
        "field": "annual_fee",
        "decision": ValueStatus.CORRECTED,
        "before_digest": content_digest("18500 EUR"),
        "after_digest": content_digest("18600 EUR"),
        "chars_before": 9,
        "chars_after": 9,
    }
    assert "18500" not in json.dumps(event.metadata) and "18600" not in json.dumps(event.metadata)


def test_only_reviewers_who_may_read_the_document_check_its_values(setup):
    extraction = _run(setup)
    cell = ExtractionValue.objects.get(extraction=extraction, document=setup["contoso"], field_name="tier")

    with pytest.raises(PermissionDenied):
        extraction_value_review(principal=setup["runner"], value_id=cell.pk)
    with pytest.raises(NotFound):
        extraction_value_review(principal=setup["outsider"], value_id=cell.pk)


def test_a_reader_sees_only_rows_of_documents_they_may_read(setup):
    extraction = _run(setup)

    table = extraction_table(principal=setup["outsider"], extraction=extraction)
    data = extraction_data(principal=setup["outsider"], extraction=extraction)
    rows = list(csv.reader(io.StringIO(extraction_csv(principal=setup["outsider"], extraction=extraction))))

    assert [r.document.external_id for r in table.rows] == ["northwind"] and table.withheld == 1
    assert [r["document"] for r in data["rows"]] == ["northwind"] and data["withheld_rows"] == 1
    assert [r[0] for r in rows[1:]] == ["northwind"] and "Contoso" not in "".join(map(str, rows))


def test_members_see_their_own_extractions_and_reviewers_all(setup, world):
    extraction = _run(setup)
    other = world.principal("mia", setup["org"])

    with pytest.raises(NotFound):
        get_extraction(principal=other, extraction_id=extraction.pk)
    assert get_extraction(principal=setup["reviewer"], extraction_id=extraction.pk)


def test_the_table_sorts_by_a_field_and_filters_rows_to_review(setup):
    extraction = _run(setup)

    by_fee = extraction_table(principal=setup["runner"], extraction=extraction, sort="annual_fee")
    by_fee_desc = extraction_table(principal=setup["runner"], extraction=extraction, sort="annual_fee", descending=True)
    by_interest = extraction_table(
        principal=setup["runner"], extraction=extraction, sort="late_interest", descending=True
    )
    to_review = extraction_table(principal=setup["runner"], extraction=extraction, only="review")
    found = extraction_table(principal=setup["runner"], extraction=extraction, q="northwind")

    assert [r.document.external_id for r in by_fee.rows] == ["contoso", "northwind"]  # 18,500 before 48,000
    assert [r.document.external_id for r in by_fee_desc.rows] == ["northwind", "contoso"]
    assert [r.document.external_id for r in by_interest.rows] == ["northwind", "contoso"]  # empty last
    assert "contoso" in [r.document.external_id for r in to_review.rows]
    assert [r.document.external_id for r in found.rows] == ["northwind"]


def test_running_again_reads_each_cell_once_and_a_lost_run_resumes(setup):
    extraction = _start(setup, "northwind")
    # Given another worker took it and holds its lease
    Extraction.objects.filter(pk=extraction.pk).update(
        status=ExtractionStatus.RUNNING,
        started_at=timezone.now(),
        worker_id="elsewhere:1",
        lease_expires_at=timezone.now() + timedelta(minutes=2),
    )
    assert extraction_execute(extraction_id=extraction.pk).status == ExtractionStatus.RUNNING

    # When its lease expired and that worker is silent, the run resumes here, each cell read once
    Extraction.objects.filter(pk=extraction.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    finished = extraction_execute(extraction_id=extraction.pk)
    again = extraction_execute(extraction_id=extraction.pk)

    assert finished.status == again.status
    assert (finished.done, finished.total) == (1, 1)
    assert ExtractionValue.objects.filter(extraction=extraction).count() == len(SCHEMA["fields"])


def test_csv_cells_cannot_run_as_formulas(setup, world):
    org = setup["org"]
    make_document(org, "evil", ["The Vendor, =HYPERLINK Corp, provides nothing.", "The annual fee is $1 per year."])
    extraction = extraction_start(
        principal=setup["runner"],
        schema_slug="contract-terms",
        document_ids=[
            Membership.objects.get(user_id=setup["runner"].user_id).organization.documents.get(external_id="evil").pk
        ],
        enqueue=False,
    )
    extraction = extraction_execute(extraction_id=extraction.pk)
    cell = ExtractionValue.objects.get(extraction=extraction, field_name="vendor")
    cell.value = "=cmd|' /C calc'!A0"
    cell.save()

    text = extraction_csv(principal=setup["runner"], extraction=extraction)

    assert "'=cmd" in text and "\n=cmd" not in text and ",=cmd" not in text


def test_the_csv_adds_each_values_state_in_words_after_the_columns_scripts_read(setup):
    """Given an extraction, when exported, then the columns scripts read are unchanged (the stored
    status among them) and each field's state in the pages' words follows, last."""
    extraction = _run(setup)

    rows = list(csv.reader(io.StringIO(extraction_csv(principal=setup["runner"], extraction=extraction))))

    names = [f["name"] for f in extraction.fields]
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[-len(names) :] == [f"{n} state" for n in names]
    assert header[: -len(names)][-len(names) :] == [f"{n} source" for n in names]
    words = {"extracted": "Read", "needs_review": "To check", "confirmed": "Confirmed", "corrected": "Corrected"}
    for name in names:
        assert first[f"{name} state"] == words[first[f"{name} status"]]


def test_extract_prints_the_contract(setup):
    out = StringIO()

    call_command(
        *"extract contract-terms --as max --document northwind --document contoso --sync --json".split(), stdout=out
    )

    result = json.loads(out.getvalue())
    assert result["status"] == "needs_review" and result["extraction_id"]
    row = next(r for r in result["rows"] if r["document"] == "northwind")
    assert row["values"]["annual_fee"]["value"] == "48000 USD"
    assert row["values"]["annual_fee"]["citation"]["quote"] == "The annual fee is $48,000 per year."
    assert set(row["values"]["annual_fee"]) >= {"value", "confidence", "citation"}
    run = result["run"]
    assert run["kind"] == "extractions" and run["id"] == result["extraction_id"] and run["status"] == "needs_review"
    assert (run["done"], run["total"], run["worker_lost"]) == (2, 2, False)


def test_the_schema_command_and_the_api(setup, client, tmp_path):
    from citadel.accounts.services import api_token_create

    path = tmp_path / "schema.json"
    path.write_text(json.dumps({**SCHEMA, "slug": "short", "fields": SCHEMA["fields"][:2]}))
    out = StringIO()
    call_command("extraction_schema_create", str(path), "--org", "acme", "--json", stdout=out)
    assert json.loads(out.getvalue())["slug"] == "short"

    _, secret = api_token_create(user=Membership.objects.get(user_id=setup["runner"].user_id).user, name="t")
    api = ApiClient(client, secret)
    schemas = api.get("/extractions/schemas").json()
    started = api.post("/extractions", {"schema": "contract-terms", "documents": ["northwind"]})
    assert {s["slug"] for s in schemas} == {"contract-terms", "short"}
    assert started.status_code == 202 and started.json()["status"] == "queued"
    extraction_execute(extraction_id=started.json()["extraction_id"])
    read = api.get(f"/extractions/{started.json()['extraction_id']}").json()
    assert read["rows"][0]["values"]["vendor"]["value"] == "Northwind Traders"
    assert started.json()["run"]["status"] == "queued" and (read["run"]["done"], read["run"]["total"]) == (1, 1)


def test_a_member_runs_and_reviews_on_the_pages(setup, login):
    client = login(Membership.objects.get(user_id=setup["runner"].user_id).user)
    assert b"Contract terms" in client.get(reverse("extraction:index")).content
    response = client.post(
        reverse("extraction:start"), {"schema": "contract-terms", "documents": [setup["northwind"].pk]}
    )
    extraction = Extraction.objects.get()
    assert response.status_code == 302
    extraction_execute(extraction_id=extraction.pk)

    page = client.get(reverse("extraction:detail", args=[extraction.pk])).content.decode()
    exported = client.get(reverse("extraction:export_csv", args=[extraction.pk]))

    assert "48000 USD" in page and "The annual fee is $48,000 per year." in page
    assert exported["Content-Type"].startswith("text/csv") and "48000 USD" in exported.content.decode()
    reviewer = login(Membership.objects.get(user_id=setup["reviewer"].user_id).user)
    cell = ExtractionValue.objects.get(extraction=extraction, field_name="tier")
    if cell.status == ValueStatus.NEEDS_REVIEW:
        reviewed = reviewer.post(
            reverse("extraction:review_value", args=[cell.pk]), {"decision": "correct", "value": "Silver"}
        )
        assert reviewed.status_code == 302
        cell.refresh_from_db()
        assert cell.value == "Silver" and cell.status == ValueStatus.CORRECTED


# --- the run's life (citadel.jobs) ---------------------------------------------------------------


def test_cancelling_a_running_extraction_stops_it_before_the_next_document_and_it_can_be_retried(
    setup, monkeypatch, login
):
    """Given an extraction reading its second document, when its runner cancels it, then that
    document's row is not written and the worker stops, the first row stays, the cancellation is
    audited with who did it, and a retry reads the rest. Only the reader (a model) is faked."""
    extraction = _start(setup, "northwind", "contoso")
    reads = []

    def reader():
        reads.append(1)
        if len(reads) == len(SCHEMA["fields"]) + 1:  # the second document's first field
            run_cancel(model=Extraction, principal=setup["runner"], run_id=extraction.pk)

    monkeypatch.setattr(services, "get_reader", reader)

    stopped = extraction_execute(extraction_id=extraction.pk)

    assert stopped.status == ExtractionStatus.CANCELLED and len(reads) == 2 * len(SCHEMA["fields"])
    read = set(ExtractionValue.objects.filter(extraction=extraction).values_list("document_id", flat=True))
    assert read == {setup["northwind"].pk} and (stopped.done, stopped.total) == (1, 2)
    event = AuditEvent.objects.get(verb="extraction.cancelled")
    assert event.actor_id == setup["runner"].user_id
    client = login(Membership.objects.get(user_id=setup["runner"].user_id).user)
    page = client.get(reverse("extraction:detail", args=[extraction.pk])).content.decode()
    assert "cancelled by max" in page and reverse("extraction:retry", args=[extraction.pk]) in page
    assert extraction_data(principal=setup["runner"], extraction=stopped)["run"]["cancelled_by"] == "max"

    assert client.post(reverse("extraction:retry", args=[extraction.pk])).status_code == 302
    finished = extraction_execute(extraction_id=extraction.pk)

    assert finished.status == ExtractionStatus.NEEDS_REVIEW and (finished.done, finished.total) == (2, 2)
    assert ExtractionValue.objects.filter(extraction=extraction).count() == 2 * len(SCHEMA["fields"])
    assert AuditEvent.objects.filter(verb="extraction.retried", actor_id=setup["runner"].user_id).exists()
