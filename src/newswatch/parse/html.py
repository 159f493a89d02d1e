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
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKUP = re.compile(r"<[A-Za-z!/][^>]*>|&(#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
# Elements whose start tag, left unclosed, swallows the rest of the fragment: the parser
# makes everything after it their (dropped) content, or raw text shown tags and all.
_SWALLOWING_TAGS = frozenset(
    {"object", "iframe", "noembed", "noframes", "xmp", "textarea", "title", "plaintext"}
)
_SWALLOWING = re.compile(
    rf"<(/?)({'|'.join(sorted(_SWALLOWING_TAGS))})(?=[\s/>])[^>]*>", re.IGNORECASE
)
_SWALLOWED = "\x00"  # what _walk yields on meeting one (control characters are removed)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: entities decoded, scripts and styles dropped, block
    elements on their own lines, runs of whitespace collapsed. A tag cut off at the end is
    dropped, and an unclosed ``<object>``, ``<iframe>`` and the like does not hide or garble
    the text after it."""
    html = _without_cut_tag(html or "")
    if not _MARKUP.search(html):
        return collapse(html)
    html = _CONTROL.sub("", html)
    walked = list(_walk(LexborHTMLParser(html, is_fragment=True).root))
    if _SWALLOWED in walked:  # rare: pay for the second parse only then
        walked = list(_walk(LexborHTMLParser(_close_swallowing(html), is_fragment=True).root))
    pieces: list[str] = []
    for piece in walked:
        if piece != _SWALLOWED:
            # A line break inside a text node is a space (the lines are collapsed below).
            pieces.append(piece if piece == _BREAK else piece.replace(_BREAK, " "))
    lines = (" ".join(line.split()) for line in "".join(pieces).split(_BREAK))
    return "\n".join(line for line in lines if line)


def _without_cut_tag(html: str) -> str:
    """``html`` without a tag cut off at its very end by a length limit (``... the
    minister said <a href="htt``): a ``<`` and a letter, ``/`` or ``!`` with no ``>`` after."""
    last = html.rfind("<")
    if last < 0 or html.find(">", last) >= 0 or last + 1 == len(html):
        return html
    after = html[last + 1]
    return html[:last] if after in "/!" or (after.isascii() and after.isalpha()) else html


def _close_swallowing(html: str) -> str:
    """``html`` without the start tags of swallowing elements that are never closed (their
    content is then read as ordinary markup); closed ones are left to the parser."""
    open_tags: list[tuple[str, int, int]] = []
    unclosed: list[tuple[int, int]] = []
    for tag in _SWALLOWING.finditer(html):
        name = tag[2].lower()
        if not tag[1]:
            open_tags.append((name, tag.start(), tag.end()))
            continue
        while open_tags:  # a close tag closes its element and any unclosed inside it
            inner, start, end = open_tags.pop()
            if inner == name:
                break
            unclosed.append((start, end))
    unclosed.extend((start, end) for _, start, end in open_tags)
    for start, end in sorted(unclosed, reverse=True):
        html = html[:start] + html[end:]
    return html


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
        if tag in _SWALLOWING_TAGS:
            yield _SWALLOWED
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
