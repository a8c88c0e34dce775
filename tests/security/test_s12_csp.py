"""S12: every HTML response carries a strict Content-Security-Policy (ASVS 3.4.3, 3.4.6),
and no template relies on what that policy forbids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/codes/", "/no-such-page/"])
def test_html_responses_carry_a_strict_policy(client, path):
    response = client.get(path)
    policy = directives(response["Content-Security-Policy"])
    script = policy["script-src"]
    assert "'self'" in script
    assert any(source.startswith("'nonce-") for source in script)
    assert "'unsafe-inline'" not in script
    assert "'unsafe-eval'" not in script
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy.get("style-src", [])


@pytest.mark.django_db
def test_every_script_tag_carries_the_request_nonce(client):
    response = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    tags = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert tags
    assert all(f'nonce="{nonce}"' in tag for tag in tags)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_inline_script_handlers_or_styles(template):
    text = template.read_text()
    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", text) if "src=" not in tag]
    assert inline_scripts == [], "inline <script> is blocked by the CSP"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handlers are blocked"
    assert not re.search(r"\sstyle\s*=", text), "style attributes are blocked"
    assert "<style" not in text
