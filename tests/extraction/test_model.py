"""Extraction with a language model: the model's value is used only when the value it states is
the value of the sentence it cites; otherwise the value is read offline. Every call is logged."""

import re

import pytest

from citadel.accounts.models import Organization
from citadel.audit.models import PromptLog
from citadel.documents.models import Document
from citadel.extraction.models import ExtractionValue
from citadel.extraction.services import extraction_execute, extraction_schema_create, extraction_start
from tests.factories import make_document
from tests.llm_server import Reply

CONTRACT = [
    "The Vendor, Contoso Cleaning, provides office cleaning to Acme Corporation.",
    "The annual fee is 18,500 EUR. A setup fee of 500 EUR is due on signature.",
    "The notice period for termination is ninety (90) days.",
]
SCHEMA = {
    "slug": "terms",
    "title": "Terms",
    "fields": [
        {"name": "annual_fee", "type": "amount", "guidance": "the annual fee"},
        {"name": "notice_period", "type": "duration", "guidance": "notice period for termination"},
    ],
}


@pytest.fixture
def runner(world):
    org = world.org("acme")
    Organization.objects.filter(pk=org.pk).update(generation_provider="openai", generation_model="gpt-4o-mini")
    admin = world.principal("ada", org, role="admin")
    make_document(org, "contoso", CONTRACT, title="Contoso contract")
    extraction_schema_create(organization_id=org.pk, data=SCHEMA, principal=admin)
    return world.principal("max", org)


def _source(body: dict, word: str) -> int:
    prompt = "\n".join(m["content"] for m in body["messages"] if isinstance(m.get("content"), str))
    sources = re.findall(r'<source n="(\d+)"[^>]*>(.*?)</source>', prompt, re.S)
    return next(int(n) for n, text in sources if word in text)


def _extract(runner):
    extraction = extraction_start(
        principal=runner,
        schema_slug="terms",
        document_ids=[Document.objects.get(external_id="contoso").pk],
        enqueue=False,
    )
    extraction_execute(extraction_id=extraction.pk)
    return {c.field_name: c for c in ExtractionValue.objects.filter(extraction=extraction)}


def test_a_value_the_cited_sentence_states_is_the_models(runner, openai_env):
    def reply(body):
        prompt = body["messages"][-1]["content"]
        if "What is the annual fee" in prompt:
            return Reply(text=f"The annual fee is 18,500 EUR [{_source(body, '18,500')}].")
        return Reply(text=f"Termination needs ninety days' notice [{_source(body, 'ninety')}].")

    openai_env.responder = reply

    cells = _extract(runner)

    assert cells["annual_fee"].value == "18500 EUR" and cells["annual_fee"].read_by.startswith("openai:")
    assert cells["annual_fee"].quote == "The annual fee is 18,500 EUR."
    assert cells["notice_period"].value == "90 days" and cells["notice_period"].read_by.startswith("openai:")
    assert PromptLog.objects.filter(feature="extraction", status="ok").count() == 2


def test_a_value_its_citation_does_not_state_is_read_offline_instead(runner, openai_env):
    # The model cites the fee's passage but states the setup fee's amount for the annual fee.
    openai_env.responder = lambda body: Reply(text=f"The annual fee is 500 EUR [{_source(body, '18,500')}].")

    cells = _extract(runner)

    assert cells["annual_fee"].value == "18500 EUR" and cells["annual_fee"].read_by == "extractive"


def test_a_failing_model_leaves_the_offline_value_and_the_failure_on_record(runner, openai_env):
    openai_env.responder = lambda body: Reply(status=500, text="boom")

    cells = _extract(runner)

    assert cells["notice_period"].value == "90 days" and cells["notice_period"].read_by == "extractive"
    assert PromptLog.objects.filter(feature="extraction", status="error").count() == 2
