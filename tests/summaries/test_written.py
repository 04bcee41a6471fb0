"""With a language model configured, the summary is written by it and each sentence is checked
against the passage it cites, as answers are; anything less falls back to the quoted summary and
says why. Every model call is in the prompt log."""

import re

import pytest

from citadel.accounts.models import Organization
from citadel.audit.models import PromptLog
from citadel.summaries.models import Summary, SummaryStatus
from citadel.summaries.selectors import document_summary
from citadel.summaries.services import summary_for_ready_version, summary_write
from tests.llm_server import Reply
from tests.summaries.test_summaries import POLICY


@pytest.fixture
def admin(world):
    principal = world.principal("ada", "acme", role="admin")
    Organization.objects.filter(slug="acme").update(generation_provider="openai", generation_model="gpt-4o-mini")
    return principal


def _write(version) -> Summary:
    summary_for_ready_version(version_id=version.pk)
    return summary_write(summary_id=Summary.objects.get(version=version).pk)


def _passage_numbers(body: dict) -> dict[str, int]:
    """Which source number the prompt gave the passage holding each word."""
    prompt = "\n".join(m["content"] for m in body["messages"] if isinstance(m.get("content"), str))
    sources = re.findall(r'<source n="(\d+)"[^>]*>(.*?)</source>', prompt, re.S)
    return {word: next(int(n) for n, text in sources if word in text) for word in ("fourteen", "180")}


def test_a_model_writes_the_summary_and_each_sentence_is_checked(admin, ingest, openai_env):
    def reply(body):
        n = _passage_numbers(body)
        return Reply(
            text=f"Employees book flights through the approved travel agency fourteen days before departure "
            f"[{n['fourteen']}]. Hotel costs are reimbursed up to 180 euros per night in capital cities "
            f"[{n['180']}].",
            usage=(900, 40),
        )

    openai_env.responder = reply
    version = ingest(admin, "travel.md", POLICY.encode())

    summary = _write(version)

    assert summary.status == SummaryStatus.READY and summary.written
    assert summary.written_by.startswith("openai:")
    view = document_summary(document=version.document)
    assert "180 euros per night" in view.text and view.citations
    chunks = {c.pk: c for c in version.chunks.all()}
    for citation in view.citations:
        assert citation["quote"] in chunks[citation["chunk_id"]].text
    log = PromptLog.objects.get(feature="summary")
    assert (log.status, log.tokens_in, log.tokens_out) == ("ok", 900, 40)


def test_a_claim_not_in_its_passages_falls_back_to_the_quoted_summary(admin, ingest, openai_env):
    openai_env.responder = lambda body: Reply(
        text=f"Employees may fly business class on every trip [{_passage_numbers(body)['fourteen']}]."
    )
    version = ingest(admin, "travel.md", POLICY.encode())

    summary = _write(version)

    assert summary.status == SummaryStatus.READY and not summary.written and summary.sentences
    assert "does not support" in summary.notice or "do not support" in summary.notice
    assert "business class on every trip" not in document_summary(document=version.document).text


def test_a_model_that_fails_leaves_the_quoted_summary_and_says_so(admin, ingest, openai_env):
    openai_env.responder = lambda body: Reply(status=500, text="boom")
    version = ingest(admin, "travel.md", POLICY.encode())

    summary = _write(version)

    assert summary.status == SummaryStatus.READY and not summary.written
    assert "could not write this summary" in summary.notice
    assert PromptLog.objects.get(feature="summary").status == "error"
