"""Cutting an RSS/Atom document down to its first entries before feedparser reads it,
so that the entry cap also bounds feedparser's time and memory."""

from __future__ import annotations

import itertools
import re
import xml.parsers.expat

__all__ = ["cap_entries"]

# An entry's start tag, with any namespace prefix (<item, <rss:item, <atom:entry ...).
_ENTRY_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
_ENTRY_NAMES = frozenset({"item", "entry"})
_ENTRY_MAX_DEPTH = 2  # rss > channel > item; rdf:RDF > item; feed > entry


class _Cut(Exception):
    """Raised inside expat's callback at the entry where the document is cut."""

    def __init__(self, offset: int, open_elements: list[str]) -> None:
        super().__init__(offset)
        self.offset = offset
        self.open_elements = open_elements


def cap_entries(body: bytes, max_items: int) -> bytes:
    """``body`` cut before its ``max_items + 1``-th entry and closed again, when it has more.

    feedparser builds every entry of a document before we can drop any: 100,000 tiny items
    cost ~8 s of CPU and ~200 MB. A quick scan decides whether a cut may be needed; expat
    (C, entities never loaded from outside) then finds the exact byte offset and the
    elements open there, so the cut document stays well-formed. Anything expat cannot read
    is returned whole for feedparser's tolerant parser (the parse time budget still holds).
    """
    tags = _ENTRY_TAG.finditer(body)
    if next(itertools.islice(tags, max_items, None), None) is None:
        return body
    cut = _find_cut(body, max_items)
    if cut is None:
        return body
    closing = "".join(f"</{name}>" for name in reversed(cut.open_elements))
    return body[: cut.offset] + closing.encode("ascii")


def _find_cut(body: bytes, max_items: int) -> _Cut | None:
    """Where expat meets the ``max_items + 1``-th entry, with the elements open there; None
    when there is none or expat cannot read the document up to it."""
    parser = xml.parsers.expat.ParserCreate()
    stack: list[str] = []
    seen = 0

    def start(name: str, _attrs: object) -> None:
        nonlocal seen
        if len(stack) <= _ENTRY_MAX_DEPTH and name.rpartition(":")[2] in _ENTRY_NAMES:
            seen += 1
            if seen > max_items:
                raise _Cut(parser.CurrentByteIndex, list(stack))
        stack.append(name)

    def end(_name: str) -> None:
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(body, True)
    except _Cut as cut:
        if not all(name.isascii() for name in cut.open_elements):
            return None  # closing tags would need the document's own encoding
        return cut
    except Exception:  # unreadable for expat (bad syntax, unknown encoding name...): no cut
        return None
    return None
