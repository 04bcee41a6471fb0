"""Labels: given in the background by similarity to their descriptions and to documents people
labelled, suggestions reviewed by people whose decisions stand, and labels that filter search,
asking, reports and extractions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Membership
from citadel.answers.services import question_create
from citadel.audit.models import AuditEvent
from citadel.classification import scoring
from citadel.classification.models import LabellingRun, LabellingStatus
from citadel.classification.selectors import labels_to_review
from citadel.classification.services import (
    document_label_set,
    labelling_run_execute,
    labelling_run_request,
    labels_for_ready_version,
)
from citadel.core.errors import InvalidInput, NotFound, PermissionDenied
from citadel.documents.models import DocumentLabel, Label, LabelStatus
from citadel.documents.selectors import documents_for_run
from citadel.jobs.reaper import runs_reap
from citadel.jobs.services import run_cancel, run_claim, run_extend
from citadel.retrieval.services import retrieve
from tests.factories import make_document


def relabel(org):
    """The organization's labels changed: its labelling run is queued and run here."""
    run = labelling_run_request(organization_id=org.pk, requested_by_id=None, reason="labels changed")
    return labelling_run_execute(run_id=run.pk)


TRAVEL = "Business trips: flights, hotels, per diems, mileage and expense reports."
TRIPS = ["Book flights and hotels for business trips. Per diems and mileage are paid with expense reports."]
MIXED = [
    "Flights and hotels for business trips are booked by the office. The cafeteria serves lunch and the parking garage opens early."
]
CAFETERIA = ["The cafeteria serves lunch. The parking garage opens at seven. Visitors sign in at reception."]


@pytest.fixture
def setup(world):
    org = world.org("acme")
    travel = Label.objects.create(organization=org, name="Travel & expenses", description=TRAVEL)
    return {
        "org": org,
        "travel": travel,
        "reviewer": world.principal("rita", org, role="reviewer"),
        "member": world.principal("max", org),
        "trips": make_document(org, "trips", TRIPS, title="Trips"),
        "mixed": make_document(org, "mixed", MIXED, title="Mixed"),
        "cafeteria": make_document(org, "cafeteria", CAFETERIA, title="Cafeteria"),
    }


def _label(document, label) -> DocumentLabel | None:
    return DocumentLabel.objects.filter(document=document, label=label).first()


def test_a_ready_version_is_given_the_labels_its_text_fits_and_unsure_ones_are_suggested(setup):
    """Given a label about travel, when documents become ready, the travel guide gets it, a document
    half about travel gets it suggested for review, and the cafeteria notice gets nothing."""
    for name in ("trips", "mixed", "cafeteria"):
        labels_for_ready_version(version_id=setup[name].current_version_id)

    assert _label(setup["trips"], setup["travel"]).status == LabelStatus.ASSIGNED
    assert _label(setup["mixed"], setup["travel"]).status == LabelStatus.SUGGESTED
    assert _label(setup["cafeteria"], setup["travel"]) is None
    assert scoring.SUGGEST_AT <= _label(setup["mixed"], setup["travel"]).confidence < scoring.ASSIGN_AT
    assert AuditEvent.objects.filter(verb="documents.labels_classified").count() == 2


def test_a_reviewer_accepts_or_rejects_and_the_classifier_leaves_the_decision_alone(setup):
    relabel(setup["org"])
    suggestion = _label(setup["mixed"], setup["travel"])
    assert list(labels_to_review(setup["reviewer"])) == [suggestion]

    document_label_set(
        principal=setup["reviewer"], document_id=setup["mixed"].pk, label_id=setup["travel"].pk, applies=False
    )
    document_label_set(
        principal=setup["reviewer"], document_id=setup["cafeteria"].pk, label_id=setup["travel"].pk, applies=True
    )
    relabel(setup["org"])

    assert _label(setup["mixed"], setup["travel"]).status == LabelStatus.REJECTED
    assert _label(setup["cafeteria"], setup["travel"]).status == LabelStatus.ACCEPTED
    assert list(labels_to_review(setup["reviewer"])) == []
    assert AuditEvent.objects.filter(verb="documents.label_decided").count() == 2
    with pytest.raises(PermissionDenied):
        document_label_set(
            principal=setup["member"], document_id=setup["trips"].pk, label_id=setup["travel"].pk, applies=False
        )


def test_documents_people_labelled_are_evidence_for_their_neighbours(setup, world):
    """Given a label whose description says little, when people give it to documents, a document
    like theirs gets it suggested from its neighbours."""
    org = setup["org"]
    canteen = Label.objects.create(organization=org, name="Canteen", description="Zzz.")
    for name in ("cafeteria",):
        DocumentLabel.objects.create(document=setup[name], label=canteen, status=LabelStatus.ACCEPTED)
    twin = make_document(org, "twin", CAFETERIA, title="Cafeteria twin")

    labels_for_ready_version(version_id=twin.current_version_id)

    assert _label(twin, canteen).status in (LabelStatus.ASSIGNED, LabelStatus.SUGGESTED)


def test_labels_filter_search_asking_and_runs(setup):
    relabel(setup["org"])
    member = setup["member"]

    hits = retrieve(principal=member, query="lunch flights hotels", k=10, filters={"labels": ["Travel & expenses"]})
    question = question_create(principal=member, text="Where do I book flights?", labels=["Travel & expenses"])
    ids, described = documents_for_run(principal=member, label="Travel & expenses")

    assert {h.external_id for h in hits} == {"trips"}  # the suggestion does not count yet
    assert question.scope == {"labels": ["Travel & expenses"]}
    assert ids == [setup["trips"].pk] and described == "documents labelled Travel & expenses"
    with pytest.raises(InvalidInput, match="No label named"):
        question_create(principal=member, text="Where do I book flights?", labels=["Nope"])
    with pytest.raises(NotFound, match="No label named"):
        documents_for_run(principal=member, label="Nope")


def test_the_document_page_shows_labels_and_reviewers_decide_there(setup, login):
    relabel(setup["org"])
    reviewer = login(Membership.objects.get(user_id=setup["reviewer"].user_id).user)

    card = reviewer.get(reverse("classification:card", args=[setup["mixed"].pk])).content.decode()
    decided = reviewer.post(
        reverse("classification:set", args=[setup["mixed"].pk]), {"label": setup["travel"].pk, "applies": "yes"}
    )
    review_page = reviewer.get(reverse("classification:review"))

    assert "Travel &amp; expenses" in card and "waiting for a reviewer" in card and "Accept" in card
    assert decided.status_code == 200 and "by rita" in decided.content.decode()
    assert b"Nothing to review" in review_page.content
    member = login(Membership.objects.get(user_id=setup["member"].user_id).user)
    assert member.get(reverse("classification:review")).status_code == 403
    assert b">Accept</button>" not in member.get(reverse("classification:card", args=[setup["mixed"].pk])).content


@pytest.fixture
def with_model(setup, openai_env):
    from citadel.accounts.models import Organization

    Organization.objects.filter(pk=setup["org"].pk).update(generation_provider="openai", generation_model="gpt-4o-mini")
    return openai_env


def test_with_a_model_a_label_both_give_is_given_and_one_only_the_model_names_waits(setup, with_model):
    """Given a model that names the travel label for the cafeteria notice (the vectors do not),
    the label is suggested there, not given; where both agree, it is given."""
    from citadel.audit.models import PromptLog
    from tests.llm_server import Reply

    def reply(body):
        prompt = body["messages"][-1]["content"]
        if "cafeteria" in prompt:
            return Reply(text="Travel & expenses applies: the cafeteria serves lunch [1].")
        return Reply(text="Travel & expenses applies: book flights and hotels for business trips [1].")

    with_model.responder = reply
    for name in ("trips", "cafeteria"):
        labels_for_ready_version(version_id=setup[name].current_version_id)

    assert _label(setup["trips"], setup["travel"]).status == LabelStatus.ASSIGNED
    assert _label(setup["cafeteria"], setup["travel"]).status == LabelStatus.SUGGESTED
    assert PromptLog.objects.filter(feature="classification", status="ok").count() == 2


def test_a_label_named_in_a_sentence_its_passage_does_not_support_counts_for_nothing(setup, with_model):
    from tests.llm_server import Reply

    with_model.responder = lambda body: Reply(text="Travel & expenses applies: it is about airline miles [1].")

    labels_for_ready_version(version_id=setup["cafeteria"].current_version_id)

    assert _label(setup["cafeteria"], setup["travel"]) is None


def test_with_a_failing_model_the_vectors_decide_alone(setup, with_model):
    from tests.llm_server import Reply

    with_model.responder = lambda body: Reply(status=500, text="boom")

    labels_for_ready_version(version_id=setup["trips"].current_version_id)

    assert _label(setup["trips"], setup["travel"]).status == LabelStatus.ASSIGNED


def test_changing_a_label_in_the_admin_queues_one_labelling_run_that_labels_every_document(setup, client, world):
    # Given an admin who adds a label and then changes another, before any worker ran
    admin = world.user("ada", "acme", role="admin")
    client.force_login(admin)
    client.post(reverse("admin:documents_label_add"), {"name": "Canteen", "description": "Lunch and the cafeteria."})
    client.post(
        reverse("admin:documents_label_change", args=[setup["travel"].pk]),
        {"name": "Travel & expenses", "description": TRAVEL + " Trains too."},
    )

    # Then one labelling run is queued, saying what changed, requested by the admin
    run = LabellingRun.objects.get()
    assert run.status == LabellingStatus.QUEUED and run.requested_by_id == admin.pk
    assert run.reason == "label Canteen added; label Travel & expenses changed"
    assert AuditEvent.objects.filter(verb="classification.labelling_requested").count() == 1

    # When a worker runs it, then every ready document was labelled, one at a time
    done = labelling_run_execute(run_id=run.pk)
    assert (done.status, done.done, done.total, done.attempts) == (LabellingStatus.DONE, 3, 3, 1)
    assert _label(setup["trips"], setup["travel"]).status == LabelStatus.ASSIGNED


def test_a_cancelled_labelling_run_labels_nothing(setup, world):
    run = labelling_run_request(organization_id=setup["org"].pk, requested_by_id=None, reason="label added")
    admin = world.principal("ada", "acme", role="admin")

    run_cancel(model=LabellingRun, principal=admin, run_id=run.pk)
    after = labelling_run_execute(run_id=run.pk)

    assert after.status == LabellingStatus.CANCELLED and after.done == 0
    assert _label(setup["trips"], setup["travel"]) is None


def test_reviewers_see_the_labelling_run_and_its_requester_or_an_admin_cancels_and_retries_it(setup, login, world):
    run = labelling_run_request(organization_id=setup["org"].pk, requested_by_id=None, reason="label Canteen added")
    admin = login(world.user("ada", "acme", role="admin"))
    review_page = reverse("classification:review")

    page = admin.get(review_page).content.decode()
    cancelled = admin.post(reverse("jobs:cancel", args=["labelling", run.pk]), {"next": review_page})
    after_cancel = admin.get(review_page).content.decode()
    retried = admin.post(reverse("jobs:retry", args=["labelling", run.pk]), {"next": review_page})

    assert (
        "Labelling again (label Canteen added)" in page and reverse("jobs:cancel", args=["labelling", run.pk]) in page
    )
    assert cancelled.status_code == 302 and cancelled["Location"] == review_page
    assert "cancelled by ada" in after_cancel and reverse("jobs:retry", args=["labelling", run.pk]) in after_cancel
    assert retried.status_code == 302 and LabellingRun.objects.get(pk=run.pk).status == LabellingStatus.QUEUED
    # A reviewer who did not start it sees it, without the buttons
    reviewer_page = login(world.user("rita", "acme", role="reviewer")).get(review_page).content.decode()
    assert "Labelling again" in reviewer_page
    assert f"/runs/labelling/{run.pk}/" not in reviewer_page


def test_a_labelling_run_whose_worker_was_lost_is_queued_again_and_finishes_once(
    setup, as_worker, django_capture_on_commit_callbacks
):
    # Given a labelling run worker a claimed and labelled one document with, then lost
    run = labelling_run_request(organization_id=setup["org"].pk, requested_by_id=None, reason="label added")
    as_worker("a")
    claimed, _ = run_claim(LabellingRun, run.pk)
    run_extend(claimed, done=1, total=3)
    LabellingRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=5))

    # When the reaper runs (worker b serving the queue), then it is queued again and finished once
    as_worker("b")
    with django_capture_on_commit_callbacks(execute=True):
        reaped = runs_reap()

    finished = LabellingRun.objects.get(pk=run.pk)
    assert reaped["labelling"]["requeued"] == [run.pk]
    assert (finished.status, finished.attempts, finished.worker_id) == (LabellingStatus.DONE, 2, "b")
    assert (finished.done, finished.total) == (3, 3)
    assert AuditEvent.objects.filter(verb="classification.requeued").count() == 1
