"""JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1), read with ``json``: feedparser 6.0
has no JSON support. Read as real feeds write it: ``http://`` version URLs, numeric ids,
RFC 822 dates, items that leave their authors to the feed."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from newswatch.errors import ParseError
from newswatch.models import Article, ParsedFeed
from newswatch.parse.articles import Limits, build_article, collect
from newswatch.parse.dates import first_date
from newswatch.parse.html import collapse, to_text
from newswatch.parse.identity import safe_link

__all__ = ["parse_json_feed"]

# Feeds in the wild write http://, www., a trailing slash: any jsonfeed.org version URL is one;
# some write the bare number ("1.0") instead of the URL.
_VERSION = re.compile(
    r"https?://(?:www\.)?jsonfeed\.org/version/(?P<number>[^/]*)(?:/.*)?|(?P<bare>1|1\.[01])", re.I
)
_VERSION_NAMES = {"1": "json1", "1.0": "json1", "1.1": "json11"}


def parse_json_feed(body: bytes, limits: Limits) -> ParsedFeed:
    """A JSON Feed document as a ``ParsedFeed``; ``ParseError`` if it is not one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ParseError("not a feed: invalid JSON", url=limits.feed_url) from exc
    version = document.get("version") if isinstance(document, dict) else None
    found = _VERSION.fullmatch(version.strip()) if isinstance(version, str) else None
    if found is None:
        raise ParseError("not a feed: JSON without a JSON Feed version", url=limits.feed_url)
    items = document.get("items")
    items = items if isinstance(items, list) else []
    feed_author = _json_author(document, limits.max_chars)
    articles = collect(
        (_json_article(i, limits, feed_author) for i in items if isinstance(i, dict)),
        limits.max_items,
    )
    return ParsedFeed(
        title=_json_text(document.get("title"), limits.max_chars),
        articles=articles,
        link=safe_link(document.get("home_page_url"), limits.feed_url),
        version=_VERSION_NAMES.get(found["number"] or found["bare"], "json"),
    )


def _json_text(value: object, limit: int, content_type: str = "") -> str:
    """A JSON field as capped plain text; anything but a string is no text."""
    return to_text(value, content_type, limit) if isinstance(value, str) else ""


def _json_article(item: Mapping[str, Any], limits: Limits, feed_author: str) -> Article:
    """One JSON Feed item as an ``Article`` (HTML content preferred over plain text); an
    item without authors has the feed's (one whose authors have no name has none)."""
    html = _json_text(item.get("content_html"), limits.max_chars, "text/html")
    content = html or _json_text(item.get("content_text"), limits.max_chars)
    published = first_date((item.get("date_published"), item.get("date_modified")))
    return build_article(
        limits,
        guid=_json_id(item.get("id")),
        link=safe_link(item.get("url") or item.get("external_url"), limits.feed_url),
        title=_json_text(item.get("title"), limits.max_chars),
        summary=_json_text(item.get("summary"), limits.max_chars),
        content=content,
        published=published,
        author=_json_author(item, limits.max_chars) if _has_authors(item) else feed_author,
    )


def _json_id(value: object) -> str | None:
    """An item id as a string: the spec says string, feeds also write numbers (``12345``,
    ``12345.0`` from some serializers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def _has_authors(source: Mapping[str, Any]) -> bool:
    """Whether an item names its own authors (an empty list or no object leaves them to
    the feed)."""
    authors = source.get("authors")
    if isinstance(authors, list) and any(isinstance(a, dict) for a in authors):
        return True
    return isinstance(source.get("author"), dict)


def _json_author(source: Mapping[str, Any], limit: int) -> str:
    """JSON Feed 1.1 ``authors`` (a list) or 1.0 ``author`` (one object) of an item or the
    feed: names joined; an author with no name but a ``mailto:`` url is its address."""
    authors = source.get("authors")
    if not isinstance(authors, list) or not authors:
        authors = [source.get("author")]
    names = [_author_label(a) for a in authors if isinstance(a, dict)]
    return collapse(", ".join(n for n in names if n))[:limit]


def _author_label(author: Mapping[str, Any]) -> str:
    name, url = author.get("name"), author.get("url")
    if isinstance(name, str) and name.strip():
        return name
    if isinstance(url, str) and url.strip().lower().startswith("mailto:"):
        return url.strip()[7:].partition("?")[0]
    return ""
