"""Content Security Policy: the header every page carries, and templates that can live under it
(nonce on every script, no inline handlers, no style attributes, no javascript: URLs)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
TAG = re.compile(r"<[a-zA-Z][^>]*>", re.DOTALL)
SCRIPT = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)
JS_URL = re.compile(r"javascript\s*:", re.IGNORECASE)
NONCE = 'nonce="{{ csp_nonce }}"'


def template_files() -> list[Path]:
    files = sorted((ROOT / "templates").rglob("*.html"))
    files += sorted((ROOT / "citadel").glob("*/templates/**/*.html"))
    return files


def violations(path: Path) -> list[str]:
    text = path.read_text()
    found = []
    for tag in SCRIPT.findall(text):
        if NONCE not in tag:
            found.append(f"script without the nonce: {tag}")
    for tag in TAG.findall(text):
        if HANDLER.search(tag):
            found.append(f"inline event handler: {tag}")
        if STYLE_ATTR.search(tag):
            found.append(f"style attribute: {tag}")
    if STYLE_TAG.search(text):
        found.append("inline <style> element")
    if JS_URL.search(text):
        found.append("javascript: URL")
    return found


def test_the_scanner_catches_each_kind_of_violation(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<script>alert(1)</script><button onclick="x()">b</button><p style="color:red">'
        '<a href="javascript:void(0)">a</a><style>p{}</style>'
    )
    good = tmp_path / "good.html"
    good.write_text('<script src="/static/x.js" nonce="{{ csp_nonce }}" defer></script><p class="one">on=</p>')

    assert len(violations(bad)) == 5
    assert violations(good) == []


def test_templates_are_found():
    names = {p.name for p in template_files()}
    assert {"base.html", "login.html"} <= names


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_is_csp_clean(path):
    assert violations(path) == []


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_strict(header: str):
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    d = csp_directives(header)
    assert d["object-src"] == ["'none'"]
    assert d["base-uri"] == ["'none'"]
    assert d["frame-ancestors"] == ["'none'"]
    assert d["img-src"] == ["'self'"]
    assert d["default-src"] == ["'self'"]
    assert d["script-src"][0] == "'self'" and d["script-src"][1].startswith("'nonce-")
    assert len(d["script-src"]) == 2


@pytest.mark.django_db
def test_login_page_has_the_strict_policy_and_its_scripts_the_nonce(client):
    response = client.get(reverse("login"))

    header = response["Content-Security-Policy"]
    assert_strict(header)
    nonce = csp_directives(header)["script-src"][1][len("'nonce-") : -1]
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "home",
        "documents:list",
        "documents:upload",
        "answers:ask",
        "retrieval:search",
        "review:queue",
        "audit:events",
        "ops:dashboard",
        "evaluation:index",
        "admin:index",
    ],
)
def test_main_pages_carry_the_strict_policy(world, login, name):
    client = login(world.user("ada", "acme", role="admin"))

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert_strict(response["Content-Security-Policy"])
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_each_response_gets_a_fresh_nonce(client):
    first = csp_directives(client.get(reverse("login"))["Content-Security-Policy"])["script-src"][1]
    second = csp_directives(client.get(reverse("login"))["Content-Security-Policy"])["script-src"][1]

    assert first != second
