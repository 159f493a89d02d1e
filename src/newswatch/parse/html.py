"""Feed text fields to plain text: HTML reduced with selectolax, plain text only collapsed.

No selectolax node leaves this module (DESIGN rule 2): callers get ``str``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["collapse", "html_to_text", "to_text"]

_DROP = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "svg", "head", "select"}
)
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "title",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_BREAK = "\n"
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKUP = re.compile(r"<[A-Za-z!/][^>]*>|&(#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: entities decoded, scripts and styles dropped, block
    elements on their own lines, runs of whitespace collapsed."""
    if not html or not _MARKUP.search(html):
        return collapse(html or "")
    tree = LexborHTMLParser(_CONTROL.sub("", html), is_fragment=True)
    pieces: list[str] = []
    for piece in _walk(tree.root):
        pieces.append(piece if piece == _BREAK else _SPACES.sub(" ", piece))
    lines = (" ".join(line.split()) for line in "".join(pieces).split(_BREAK))
    return "\n".join(line for line in lines if line)


def _walk(first: LexborNode | None) -> Iterator[str]:
    """Text pieces and line breaks of a fragment (``first`` and its siblings) in document
    order; iterative, so deeply nested markup is fine."""
    stack = [(node, True) for node in reversed(list(_siblings(first)))]
    while stack:
        node, entering = stack.pop()
        tag = node.tag or ""
        if not entering:
            yield " " if tag in _CELLS else _BREAK
            continue
        if tag == "-text":
            yield node.text_content or ""
            continue
        if tag in _DROP or tag.startswith("-"):  # comments, doctypes
            continue
        if tag in _BLOCK:
            yield _BREAK
        if tag in _BLOCK or tag in _CELLS:
            stack.append((node, False))
        stack.extend((child, True) for child in reversed(list(_siblings(node.first_child))))


def _siblings(node: LexborNode | None) -> Iterator[LexborNode]:
    while node is not None:
        yield node
        node = node.next


def collapse(text: str) -> str:
    """Plain text with control characters removed and whitespace runs made single spaces."""
    return " ".join(_CONTROL.sub("", text).split())


def to_text(value: str, content_type: str, limit: int) -> str:
    """A feed text field as capped plain text: HTML is converted, plain text only collapsed.

    The declared type decides (feedparser already re-types RSS text that looks like HTML), so
    a plain-text ``a <b> c`` keeps its angle brackets.
    """
    if "html" in content_type:
        return html_to_text(value)[:limit]
    return collapse(value)[:limit]
