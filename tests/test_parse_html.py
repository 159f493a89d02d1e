"""Tests for newswatch.parse.html: HTML fragments to plain text."""

from __future__ import annotations

import pytest

from newswatch.parse import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("", ""),
        ("plain  text\n here", "plain text here"),
        ("<p>One</p><p>Two</p>", "One\nTwo"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<b>bo</b>ld", "bold"),
        ("Fish &amp; chips &lt;3 &#8364;5 &nbsp;x", "Fish & chips <3 €5 x"),
        ("<script>alert(1)</script>visible<style>p{}</style>", "visible"),
        ("<noscript>enable js</noscript>ok", "ok"),
        ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
        ("<div>a\n\n   b</div>\n\n<div>c</div>", "a b\nc"),
        ("<table><tr><td>x</td><td>y</td></tr><tr><td>z</td></tr></table>", "x y\nz"),
        ("<!-- hidden -->shown", "shown"),
        ("<h1>Title</h1>Body", "Title\nBody"),
        ("Лукашенко <i>и</i> Беларусь", "Лукашенко и Беларусь"),
        ("unclosed <b>bold", "unclosed bold"),
        ("a < b and c > d", "a < b and c > d"),
        ("<html><head><title>t</title></head><body>b</body></html>", "t\nb"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    """HTML becomes plain text: entities decoded, scripts dropped, blocks on lines."""
    assert html_to_text(html) == text


def test_html_to_text_deep_nesting() -> None:
    """Deeply nested markup does not hit the recursion limit."""
    assert html_to_text("<div>" * 20_000 + "deep" + "</div>" * 20_000) == "deep"
