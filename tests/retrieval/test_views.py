import pytest
from django.urls import reverse

from tests.factories import make_document


def test_search_page_needs_login(client):
    response = client.get(reverse("retrieval:search"), {"q": "refunds"})
    assert response.status_code == 302


def test_search_shows_only_readable_passages_with_their_metadata(world, acme, login):
    client = login(world.user("bob", "acme"))

    response = client.get(reverse("retrieval:search"), {"q": "refunds paid"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "Handbook" in body and "<mark>Refunds</mark>" in body and "v1" in body and "page 1" in body
    for secret in ("Payroll", "confidential", "Globex", "Draft refunds"):
        assert secret not in body


def test_team_and_user_documents_show_for_their_readers_only(world, acme, login):
    body = login(world.user("ann", "acme")).get(reverse("retrieval:search"), {"q": "refunds"}).content.decode()
    assert "Payroll" in body and "confidential" in body and "Globex" not in body


def test_highlighting_escapes_document_text(world, login):
    org = world.org("acme")
    make_document(org, "xss", ["<script>alert('refunds')</script> refunds <b>bold</b>"])
    client = login(world.user("bob", org))

    body = client.get(reverse("retrieval:search"), {"q": "refunds"}).content.decode()

    assert "<script>alert" not in body and "<b>bold" not in body
    assert (
        "&lt;script&gt;alert(&#x27;refunds&#x27;)&lt;/script&gt; <mark>refunds</mark> &lt;b&gt;bold&lt;/b&gt;" in body
    )


def test_htmx_requests_get_the_results_partial(world, acme, login):
    client = login(world.user("bob", "acme"))

    body = client.get(reverse("retrieval:search"), {"q": "refunds"}, headers={"HX-Request": "true"}).content.decode()

    assert "Handbook" in body and "<html" not in body


def test_bad_input_is_a_400_not_a_500(world, acme, login):
    client = login(world.user("bob", "acme"))
    assert client.get(reverse("retrieval:search"), {"q": "x" * 3000}).status_code == 400


@pytest.mark.parametrize("page", ["retrieval:search", "retrieval:hit_testing"])
@pytest.mark.parametrize("query", [{"q": "refunds\x00"}, {"q": "refunds", "label": "\x00"}], ids=["q", "label"])
def test_a_nul_byte_in_the_query_or_the_label_is_a_400_not_a_500(world, acme, login, page, query):
    client = login(world.user("ada", "acme", role="admin"))

    response = client.get(reverse(page), query)

    assert response.status_code == 400
    assert "The request holds characters that cannot be read (a NUL byte in" in response.content.decode()


def test_hit_testing_is_for_admins_only(world, acme, login):
    client = login(world.user("bob", "acme"))
    assert client.get(reverse("retrieval:hit_testing"), {"q": "refunds"}).status_code == 403


def test_hit_testing_shows_both_legs_without_leaking(world, acme, login):
    client = login(world.user("ada", "acme", role="admin"))

    response = client.get(reverse("retrieval:hit_testing"), {"q": "refunds paid"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "Dense" in body and "Lexical (BM25)" in body and "Handbook" in body
    for secret in ("Payroll", "confidential", "Globex", "Draft refunds"):
        assert secret not in body


def test_search_says_when_only_words_were_matched(world, acme, login, monkeypatch):
    class Down:
        def embed(self, texts):
            raise TimeoutError("provider timed out")

    monkeypatch.setattr("citadel.retrieval.services.get_embedder", lambda name: Down())
    client = login(world.user("bob", "acme"))

    body = client.get(reverse("retrieval:search"), {"q": "refunds"}).content.decode()

    assert "match your words only" in body and "Handbook" in body


def test_each_result_offers_to_ask_about_its_document(world, acme, login):
    client = login(world.user("ann", "acme"))

    body = client.get(reverse("retrieval:search"), {"q": "refunds"}).content.decode()

    for name in ("handbook", "payroll"):
        document = acme[name]
        assert (
            f'href="{reverse("answers:ask")}?document={document.pk}" '
            f'aria-label="Ask about this document: {document.title}">Ask about this document</a>'
        ) in body
