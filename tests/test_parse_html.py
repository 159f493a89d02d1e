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


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<p>Video:</p><object data="v">The <b>PM</b> said.', "Video:\nThe PM said."),
        ('<p>Map:</p><iframe src="m.html">The rest of the story.', "Map:\nThe rest of the story."),
        ('<p>Clip:</p><embed src="c.swf">The rest of the story.', "Clip:\nThe rest of the story."),
        ("<OBJECT DATA=x><p>Rest</p>", "Rest"),
        ("Before <title>rest <b>bold</b>", "Before rest bold"),
        ("Before <textarea>rest <b>bold</b>", "Before rest bold"),
        ("Before <noembed>rest <b>bold</b>", "Before rest bold"),
        ("Before <xmp>rest <b>bold</b>", "Before rest bold"),
        ("Before <plaintext>rest <b>bold</b>", "Before rest bold"),
        ("<p>a</p><object><param name=x>fallback</object>after", "a\nafter"),
        ("<iframe src=x>hidden</iframe>after <iframe src=y>tail", "after tail"),
        ("<object><object>inner</object>rest", "rest"),
        ("<script>document.write('<iframe src=x>')</script>after", "after"),
    ],
)  # fmt: skip
def test_unclosed_element_does_not_swallow_the_rest(html: str, text: str) -> None:
    """An unclosed <object>, <iframe> (or a raw-text element such as <title>) does not hide
    or garble the text after it; closed ones are still dropped."""
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('Talks resumed. The minister said <a href="htt', "Talks resumed. The minister said"),
        ('<p>Talks resumed.</p> He said <a href="htt', "Talks resumed.\nHe said"),
        ("<p>Talks resumed.</p></p", "Talks resumed."),
        ("Talks resumed. <!-- cut", "Talks resumed."),
        ("Talks resumed. <img src='x' alt='a", "Talks resumed."),
        ("x <", "x <"),
        ("a < b", "a < b"),
        ("3 <4", "3 <4"),
    ],
)  # fmt: skip
def test_cut_off_tag_at_the_end_is_dropped(html: str, text: str) -> None:
    """Half-written markup at the end of a cut-off description is dropped, not shown."""
    assert html_to_text(html) == text


def test_html_to_text_deep_nesting() -> None:
    """Deeply nested markup does not hit the recursion limit."""
    assert html_to_text("<div>" * 20_000 + "deep" + "</div>" * 20_000) == "deep"
