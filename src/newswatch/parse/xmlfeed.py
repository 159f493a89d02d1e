"""RSS 0.9x/1.0/2.0 and Atom through feedparser, converted at once to ``ParsedFeed``.

No ``FeedParserDict`` leaves this module (DESIGN rule 2; lemon24/reader does the same):
every field is read here and turned into capped plain text, safe links and UTC dates.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from newswatch.errors import ParseError
from newswatch.models import Article, ParsedFeed
from newswatch.parse.articles import Limits, build_article, collect, ttl_seconds
from newswatch.parse.authors import author_name
from newswatch.parse.compat import map_type
from newswatch.parse.dates import first_date
from newswatch.parse.fastxml import parse_fast
from newswatch.parse.html import to_text
from newswatch.parse.identity import safe_link

__all__ = ["parse_with_feedparser", "parse_xml_feed"]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Where feedparser keeps the date texts of an entry, best first.
_DATE_KEYS = ("published", "updated", "created", "dc_created")


def parse_xml_feed(body: bytes, content_type: str, limits: Limits) -> ParsedFeed:
    """An RSS or Atom document as a ``ParsedFeed``; ``ParseError`` if it is not one.

    The lxml fast path (:mod:`.fastxml`) reads the well-formed UTF-8 RSS 2.0 / 1.0 and
    Atom 1.0 it models exactly; feedparser reads everything else."""
    fast = parse_fast(body, content_type, limits)
    if fast is not None:
        return fast
    return parse_with_feedparser(body, content_type, limits)


def parse_with_feedparser(body: bytes, content_type: str, limits: Limits) -> ParsedFeed:
    """An RSS or Atom document read by feedparser (the tolerant path)."""
    result = _feedparser(body, content_type, limits.feed_url)
    entries = result.get("entries") or []
    if not result.get("version") and not entries:
        raise ParseError(_not_a_feed_reason(body, result), url=limits.feed_url)
    feed = result.get("feed") or {}
    version = str(result.get("version") or "")
    atom = version.startswith("atom")
    title = _field(feed, "title", limits.max_chars)
    link = safe_link(_link_element(feed, atom), limits.feed_url)
    articles = collect((_xml_article(e, limits, atom) for e in entries), limits.max_items)
    ttl = ttl_seconds(feed.get("ttl"))
    return ParsedFeed(title, articles, link, ttl, version, _warning(result))


def _feedparser(body: bytes, content_type: str, feed_url: str) -> Mapping[str, Any]:
    """feedparser's result for ``body``: given a stream (never bytes or a path-like str, which
    it would open or fetch), with the HTTP content type for the charset. Its HTML sanitizing
    and relative-URI rewriting are off: we reduce HTML to text anyway, and they cost most of
    the parse time. It gets no base URL unless the document uses xml:base, so guids stay as
    written (it would resolve a relative permalink guid against the feed URL, and a feed
    served from another URL would re-key every entry); links are resolved here instead."""
    headers = {}
    if content_type:
        headers["content-type"] = content_type
    if b"xml:base" in body:
        # Without a base, feedparser lets an element's xml:base leak to the elements after
        # it; with one, it resolves permalink guids against it. Pay that price only here.
        headers["content-location"] = feed_url
    import feedparser  # here: a worker that only meets fast-path feeds never imports it

    try:
        result: Mapping[str, Any] = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser has crash bugs on hostile input; never let one out
        raise ParseError(f"feed parser failed: {type(exc).__name__}", url=feed_url) from exc
    return result


def _warning(result: Mapping[str, Any]) -> str | None:
    """What a feed got wrong without losing its entries: a declared charset that does not
    decode the document (its text may be garbled)."""
    from feedparser import CharacterEncodingOverride

    problem = result.get("bozo_exception")
    if isinstance(problem, CharacterEncodingOverride):
        declared = str(problem).partition("declared as ")[2].partition(",")[0] or "its charset"
        used = str(result.get("encoding") or "another charset")
        return (
            f"the document is not valid {declared} as declared: read as {used}, "
            "so its text may be garbled"
        )
    return None


def _not_a_feed_reason(body: bytes, result: Mapping[str, Any]) -> str:
    """Why a document with no feed version and no entries is not a feed, in plain words."""
    head = body[:1024].lower()
    if b"<html" in head or b"<!doctype html" in head:
        return "not a feed: the document is an HTML page"
    if result.get("bozo"):
        return "not a feed: the document is not well-formed RSS, Atom or JSON Feed"
    return "not a feed: no RSS, Atom or JSON Feed content found"


def _field(source: Mapping[str, Any], name: str, limit: int) -> str:
    """A feedparser text field (title, summary...) as capped plain text, by its declared type."""
    value = source.get(name)
    if not isinstance(value, str):
        return ""
    detail = source.get(f"{name}_detail") or {}
    return to_text(value, str(detail.get("type", "")), limit)


def _xml_article(entry: Mapping[str, Any], limits: Limits, atom: bool) -> Article:
    """One feedparser entry as an ``Article``: fields as capped text, a safe link, a date."""
    link = _xml_link(entry, limits.feed_url, atom)
    contents = [c for c in entry.get("content") or [] if isinstance(c.get("value"), str)]
    content = "\n".join(
        to_text(c["value"], str(c.get("type", "")), limits.max_chars) for c in contents
    )
    guid = entry.get("id")
    # feedparser copies content into a missing summary (without a summary_detail): not ours.
    summary = _field(entry, "summary", limits.max_chars) if "summary_detail" in entry else ""
    return build_article(
        limits,
        guid=guid if isinstance(guid, str) else None,
        link=link,
        title=_field(entry, "title", limits.max_chars),
        summary=summary,
        content=content[: limits.max_chars],
        published=_entry_date(entry),
        author=_xml_author(entry, limits.max_chars, atom),
    )


def _entry_date(entry: Mapping[str, Any]) -> datetime | None:
    """published, else updated, else created (``dcterms:created``, then ``dc:created``), read
    from the text the feed wrote (not feedparser's ``*_parsed``, which invents dates). Read
    with ``dict.get`` because FeedParserDict maps a missing ``updated`` to ``published``
    with a DeprecationWarning."""
    if not isinstance(entry, dict):
        return None
    return first_date(dict.get(entry, key) for key in _DATE_KEYS)


def _xml_link(entry: Mapping[str, Any], base: str, atom: bool) -> str | None:
    """The entry's link; a link feedparser took from a permalink guid counts only if it is
    an absolute URL (``<guid>42</guid>`` is an id, not a link relative to the feed)."""
    link = _link_element(entry, atom)
    if entry.get("guidislink") and link == entry.get("id"):
        return safe_link(link, None)
    return safe_link(link, base)


def _link_element(source: Mapping[str, Any], atom: bool) -> object:
    """feedparser's ``link`` of an entry or feed, except one it took from an Atom ``<id>``:
    RFC 4287 (4.2.6) says an id MUST NOT be assumed to be dereferenceable, so in Atom only
    an alternate HTML ``<link>`` is a link (an RSS permalink ``<guid>`` is one)."""
    link = source.get("link")
    if not (atom and source.get("guidislink") and link == source.get("id")):
        return link
    for element in source.get("links") or []:
        kind = map_type(str(element.get("type", "text/html")))
        alternate = element.get("rel", "alternate") == "alternate" and kind in _HTML_TYPES
        if alternate and element.get("href") == link:
            return link
    return None


def _several_authors(entry: Mapping[str, Any], atom: bool) -> str:
    """Every author's name joined, when an entry has more than one (feedparser's ``author``
    is then only the last; a repeated name counts once); '' otherwise. In RSS only names
    without an address beside them are taken as written (feedparser cuts the others apart)."""
    authors = [a for a in entry.get("authors") or [] if isinstance(a, Mapping)]
    if len(authors) < 2 or (not atom and any(a.get("email") for a in authors)):
        return ""
    names = [a.get("name") or a.get("email") for a in authors]
    # the same name twice (dc:creator and itunes:author) is one author
    unique = dict.fromkeys(author_name(n) for n in names if isinstance(n, str) and n.strip())
    return ", ".join(unique)


def _xml_author(entry: Mapping[str, Any], limit: int, atom: bool) -> str:
    """The entry's author from the text the feed wrote, not feedparser's
    ``author_detail.name``, which its e-mail stripping cuts apart. Only an Atom author's
    name is taken as parsed: from ``<name>``, feedparser writes ``author`` as ``name (email)``
    itself. Several authors are named in document order, joined (as in JSON Feed)."""
    several = _several_authors(entry, atom)
    if several:
        return to_text(several, "", limit)
    text = entry.get("author")
    if not isinstance(text, str):
        return ""
    detail = entry.get("author_detail") or {}
    name, email = detail.get("name"), detail.get("email")
    if isinstance(name, str) and email and text == f"{name} ({email})":
        return to_text(name, "", limit)
    return to_text(author_name(text), "", limit)
