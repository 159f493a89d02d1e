"""OPML 2.0 subscription lists: feeds in (``opml:`` files) and out (``opml export``).

Reading uses the standard library's expat parser through defusedxml, with entity
declarations and external references refused (an OPML file from elsewhere is as
untrusted as a feed). Every outline with an ``xmlUrl`` is a feed, however deeply nested in
folders; its name is its ``text`` (else ``title``). A URL listed twice is one feed, the
first; a feed also listed in the YAML file takes the YAML entry's options.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import xml.sax
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from newswatch.config.schema import FeedSettings, check_http_url
from newswatch.errors import ConfigError, ConfigProblem
from newswatch.redact import redact_feed_url

__all__ = ["OpmlFeed", "merge_feeds", "opml_document", "read_opml"]

_NAME_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One outline with an ``xmlUrl``, and where it is in its file."""

    url: str
    name: str | None
    line: int
    column: int


class _Outlines(xml.sax.handler.ContentHandler):
    """Collects the feed outlines of an OPML document and the problems found in it."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.feeds: list[OpmlFeed] = []
        self.problems: list[ConfigProblem] = []
        self.root: str | None = None
        self.locator: xml.sax.xmlreader.Locator | None = None

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:
        self.locator = locator

    def position(self) -> tuple[int, int]:
        """1-based line and column of the parser's current place."""
        if self.locator is None:
            return 1, 1
        return self.locator.getLineNumber() or 1, (self.locator.getColumnNumber() or 0) + 1

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        if self.root is None:
            self.root = name
        if name.lower() != "outline":
            return
        found = {key.lower(): value for key, value in attrs.items()}
        url = found.get("xmlurl", "").strip()
        if not url:
            return  # a folder (or a link that is not a feed): its children are read
        line, column = self.position()
        try:
            check_http_url(url)
        except ValueError:
            message = f"outline xmlUrl '{redact_feed_url(url)}' is not an http(s) URL with a host"
            self.problems.append(ConfigProblem(self.path, line, column, message))
            return
        name_text = " ".join((found.get("text") or found.get("title") or "").split())
        self.feeds.append(OpmlFeed(url, name_text[:_NAME_MAX] or None, line, column))


def read_opml(path: Path) -> tuple[list[OpmlFeed], list[ConfigProblem]]:
    """The feeds of the OPML file at ``path`` in document order, and the outlines that
    cannot be used (at ``path:line:column``).

    Raises ``OSError`` when the file cannot be read, :class:`ConfigError` when it is not
    a well-formed OPML document.
    """
    import defusedxml.sax  # ~65 ms of imports, paid only by a configuration with OPML
    from defusedxml import DefusedXmlException

    data = path.read_bytes()
    handler = _Outlines(str(path))
    try:
        defusedxml.sax.parse(io.BytesIO(data), handler, forbid_dtd=False)
    except xml.sax.SAXParseException as exc:
        line, column = exc.getLineNumber() or 1, (exc.getColumnNumber() or 0) + 1
        message = f"not a well-formed OPML file: {exc.getMessage()}"
        raise ConfigError([ConfigProblem(str(path), line, column, message)]) from None
    except DefusedXmlException:
        line, column = handler.position()
        message = "OPML file declares XML entities or external references: not allowed"
        raise ConfigError([ConfigProblem(str(path), line, column, message)]) from None
    if handler.root is None or handler.root.lower() != "opml":
        message = f"not an OPML file: its root element is <{handler.root}>, not <opml>"
        raise ConfigError([ConfigProblem(str(path), 1, 1, message)])
    return handler.feeds, handler.problems


def merge_feeds(
    feeds: Sequence[FeedSettings], extra: Iterable[OpmlFeed]
) -> tuple[FeedSettings, ...]:
    """``feeds`` then every OPML feed whose URL is not among them yet (the YAML entry's
    options win; within OPML files the first listing wins)."""
    known = {feed.url.strip() for feed in feeds}
    merged = list(feeds)
    for item in extra:
        if item.url in known:
            continue
        known.add(item.url)
        merged.append(FeedSettings(url=item.url, name=item.name))
    return tuple(merged)


def opml_document(feeds: Iterable[FeedSettings], titles: Mapping[str, str] | None = None) -> str:
    """An OPML 2.0 document listing ``feeds``: ``text``/``title`` is the configured name,
    else the feed's own title from ``titles`` (by URL), else the URL. Headers are never
    written: they may hold credentials."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = "newswatch feeds"
    body = ET.SubElement(root, "body")
    for feed in feeds:
        name = feed.name or (titles or {}).get(feed.url) or feed.url
        ET.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=feed.url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
