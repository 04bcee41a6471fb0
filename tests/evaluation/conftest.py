import pytest
from django.test import override_settings

from citadel.evaluation.services import eval_set_create, golden_question_add
from tests.factories import make_document

QUESTIONS = [
    ("How many days until refunds are paid?", ["refunds"]),
    ("Is shipping free for large orders?", ["shipping"]),
    ("What is the salary band of engineers?", ["payroll"]),
]


@pytest.fixture
def acme(world):
    """An organization with three documents, one of them readable by the payroll team only,
    an admin outside that team and a golden set asking about all three."""
    org = world.org("acme")
    admin = world.principal("ada", org, role="admin")
    payroll_team = org.teams.create(name="payroll")
    make_document(org, "refunds", ["Refunds are paid within 14 days of the return being received."])
    make_document(org, "shipping", ["Shipping is free for orders above 50 euros.", "Parcels travel by courier."])
    make_document(org, "security", ["Passwords must have at least 12 characters and be unique."])
    make_document(org, "payroll", ["The salary band of engineers is reviewed every year."], grants=[payroll_team])
    eval_set = eval_set_create(principal=admin, name="Support")
    for question, expected in QUESTIONS:
        golden_question_add(principal=admin, eval_set_id=eval_set.pk, question=question, expected_external_ids=expected)
    return org, admin, eval_set


@pytest.fixture
def db_queue(db):
    """Tasks go to django-tasks-db's table (as in production) instead of running in-process."""
    queues = ["default", "ingestion", "answers", "maintenance"]
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": queues}}):
        yield
