"""Parsing feed documents: bytes + content type -> ``ParsedFeed`` of plain-text ``Article``s.

feedparser reads RSS 0.9x/1.0/2.0 and Atom; JSON Feed 1.0/1.1 is read here with ``json``
(feedparser 6.0 has no JSON support). Everything that leaves this module is typed, bounded
plain text: HTML is reduced to text with selectolax, links are http(s) only, every field is
capped. ``parse_feed`` is pure and picklable so the pipeline can run it in a process pool.

Identity (DESIGN rule 8): ``entry_key`` is an article's identity within its feed (guid, else
normalized link, else a hash of title and text); ``normalize_url`` gives its identity across
feeds.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import itertools
import json
import re
import xml.parsers.expat
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import feedparser
from selectolax.lexbor import LexborHTMLParser, LexborNode

from newswatch.errors import ParseError
from newswatch.models import Article, ParsedFeed

__all__ = ["entry_key", "html_to_text", "normalize_url", "parse_feed"]

# Dates outside these years are treated as absent: parsing has no clock, and a feed that
# claims the year 2999 (or 0001) is wrong, not early.
MIN_YEAR, MAX_YEAR = 1970, 2100

# --- URL normalization (SPEC §4) -------------------------------------------------------------

# Tracking parameters: a denylist, never an allowlist (an allowlist drops ?storyid=55).
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "ysclid", "twclid", "ttclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid",
        "_ga", "_gl", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_conv", "vero_id", "wickedid",
        "s_kwcid", "ef_id", "_openstat", "ref_src", "ref_url", "cmpid", "ito", "at_medium",
        "at_campaign", "ncid", "sr_share", "guccounter", "guce_referrer", "guce_referrer_sig",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?%:@!$'()*+,;=-._~"
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_url(url: str, base: str | None = None) -> str | None:
    """The cross-feed identity of a link, or None if it is not a usable http(s) URL.

    Scheme and host lower-cased (IDN hosts as punycode), default port, fragment and tracking
    parameters removed, other parameters kept in order, escapes normalized. Idempotent.
    """
    try:
        parts = urlsplit(urljoin(base, url.strip()) if base else url.strip())
        scheme = parts.scheme.lower()
        port = parts.port
    except ValueError:
        return None
    host = _normalize_host(parts.hostname or "")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@" if userinfo else ""
    netloc += f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = _normalize_escapes(quote(parts.path, safe=_PATH_SAFE)) or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


def _normalize_host(host: str) -> str:
    """Lower-case, drop trailing dots, IDN labels to punycode (kept as-is if invalid)."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _normalize_escapes(text: str) -> str:
    """Upper-case percent escapes and decode those of unreserved characters (RFC 3986 6.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE.sub(fix, text)


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    """Drop tracking and empty parameters; keep the others, in order, as written."""
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        pair = _normalize_escapes(quote(pair, safe=_QUERY_SAFE))
        name = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), pair.partition("=")[0])
        if not _is_tracking(name):
            kept.append(pair)
    return "&".join(kept)


def _safe_link(link: object, base: str | None) -> str | None:
    """An absolute http(s) link, resolved against ``base``, without control characters
    (browsers drop them too; a CR/LF must never reach a header); anything else
    (javascript:, data:, mailto:, garbage) is dropped."""
    if not isinstance(link, str):
        return None
    link = _URL_CONTROL.sub("", link).strip()
    if not link:
        return None
    try:
        absolute = urljoin(base or "", link)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return absolute


# --- identity ---------------------------------------------------------------------------------


def entry_key(guid: str | None, link_key: str | None, title: str, text: str) -> str:
    """An article's identity within its feed: its guid, else its normalized link, else the
    SHA-256 (hex) of its title and text."""
    if guid and guid.strip():
        return guid.strip()
    if link_key:
        return link_key
    return hashlib.sha256(f"{title}\x1f{text}".encode()).hexdigest()


# --- HTML to text -----------------------------------------------------------------------------

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
        return _collapse(html or "")
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


def _collapse(text: str) -> str:
    """Plain text with control characters removed and whitespace runs made single spaces."""
    return " ".join(_CONTROL.sub("", text).split())


def _to_text(value: str, content_type: str, limit: int) -> str:
    """A feed text field as capped plain text: HTML is converted, plain text only collapsed.

    The declared type decides (feedparser already re-types RSS text that looks like HTML), so
    a plain-text ``a <b> c`` keeps its angle brackets.
    """
    if "html" in content_type:
        return html_to_text(value)[:limit]
    return _collapse(value)[:limit]


# --- feeds -------------------------------------------------------------------------------------

_JSON_FEED_VERSIONS = {
    "https://jsonfeed.org/version/1": "json1",
    "https://jsonfeed.org/version/1.1": "json11",
}


def parse_feed(
    body: bytes,
    *,
    feed_url: str,
    content_type: str = "",
    max_items: int = 1000,
    max_field_chars: int = 100_000,
) -> ParsedFeed:
    """Parse an RSS, Atom or JSON feed document; raise ``ParseError`` if it is not one.

    Keeps the first ``max_items`` entries in document order (skipping repeated identities)
    and caps every text field at ``max_field_chars``.
    """
    start = body.removeprefix(codecs.BOM_UTF8).lstrip()
    if not start:
        raise ParseError("empty body", url=feed_url)
    limits = _Limits(feed_url, max_items, max_field_chars)
    if start.startswith(b"{"):
        return _parse_json_feed(start, limits)
    return _parse_xml_feed(cap_entries(body, max_items), content_type, limits)


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


class _Limits:
    """The per-call settings that every entry conversion needs."""

    __slots__ = ("feed_url", "max_chars", "max_items")

    def __init__(self, feed_url: str, max_items: int, max_chars: int) -> None:
        self.feed_url = feed_url
        self.max_items = max_items
        self.max_chars = max_chars


def _parse_xml_feed(body: bytes, content_type: str, limits: _Limits) -> ParsedFeed:
    """RSS/Atom through feedparser: given a stream (never bytes or a path-like str, which it
    would open or fetch), with the HTTP content type for the charset. Its HTML sanitizing and
    relative-URI rewriting are off: we reduce HTML to text anyway, and they cost most of the
    parse time. It gets no base URL unless the document uses xml:base, so guids stay as
    written (it would resolve a relative permalink guid against the feed URL, and a feed
    served from another URL would re-key every entry); links are resolved here instead."""
    headers = {}
    if content_type:
        headers["content-type"] = content_type
    if b"xml:base" in body:
        # Without a base, feedparser lets an element's xml:base leak to the elements after
        # it; with one, it resolves permalink guids against it. Pay that price only here.
        headers["content-location"] = limits.feed_url
    try:
        result = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser has crash bugs on hostile input; never let one out
        raise ParseError(f"feed parser failed: {type(exc).__name__}", url=limits.feed_url) from exc
    entries = result.get("entries") or []
    if not result.get("version") and not entries:
        raise ParseError(_not_a_feed_reason(body, result), url=limits.feed_url)
    feed = result.get("feed") or {}
    title = _field(feed, "title", limits.max_chars)
    link = _safe_link(feed.get("link"), limits.feed_url)
    articles = _collect((_xml_article(e, limits) for e in entries), limits.max_items)
    version = str(result.get("version") or "")
    return ParsedFeed(title, articles, link, _ttl(feed.get("ttl")), version, _warning(result))


def _warning(result: Mapping[str, Any]) -> str | None:
    """What a feed got wrong without losing its entries: a declared charset that does not
    decode the document (its text may be garbled)."""
    problem = result.get("bozo_exception")
    if isinstance(problem, feedparser.CharacterEncodingOverride):
        declared = str(problem).partition("declared as ")[2].partition(",")[0] or "its charset"
        used = str(result.get("encoding") or "another charset")
        return (
            f"the document is not valid {declared} as declared: read as {used}, "
            "so its text may be garbled"
        )
    return None


def _not_a_feed_reason(body: bytes, result: Mapping[str, Any]) -> str:
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
    return _to_text(value, str(detail.get("type", "")), limit)


def _xml_article(entry: Mapping[str, Any], limits: _Limits) -> Article:
    link = _xml_link(entry, limits.feed_url)
    contents = [c for c in entry.get("content") or [] if isinstance(c.get("value"), str)]
    content = "\n".join(
        _to_text(c["value"], str(c.get("type", "")), limits.max_chars) for c in contents
    )
    guid = entry.get("id")
    # feedparser copies content into a missing summary (without a summary_detail): not ours.
    summary = _field(entry, "summary", limits.max_chars) if "summary_detail" in entry else ""
    return _article(
        limits,
        guid=guid if isinstance(guid, str) else None,
        link=link,
        title=_field(entry, "title", limits.max_chars),
        summary=summary,
        content=content[: limits.max_chars],
        published=_struct_time(_entry_date(entry)),
        author=_xml_author(entry, limits.max_chars),
    )


def _entry_date(entry: Mapping[str, Any]) -> object:
    """published, else updated; read with ``dict.get`` because FeedParserDict maps a missing
    ``updated_parsed`` to ``published_parsed`` with a DeprecationWarning."""
    if not isinstance(entry, dict):
        return None
    return dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")


def _xml_link(entry: Mapping[str, Any], base: str) -> str | None:
    """The entry's link; a link feedparser took from a permalink guid counts only if it is
    an absolute URL (``<guid>42</guid>`` is an id, not a link relative to the feed)."""
    link = entry.get("link")
    if entry.get("guidislink") and link == entry.get("id"):
        return _safe_link(link, None)
    return _safe_link(link, base)


def _xml_author(entry: Mapping[str, Any], limit: int) -> str:
    detail = entry.get("author_detail") or {}
    name = detail.get("name") or entry.get("author") or ""
    return _to_text(name, "", limit) if isinstance(name, str) else ""


def _article(
    limits: _Limits,
    *,
    guid: str | None,
    link: str | None,
    title: str,
    summary: str,
    content: str,
    published: datetime | None,
    author: str,
) -> Article:
    """Build an Article with its identity keys (the one place they are computed)."""
    link_key = normalize_url(link) if link else None
    guid = guid.strip()[: limits.max_chars] if guid else None
    key = entry_key(guid, link_key, title, f"{summary}\n{content}")
    return Article(
        feed_url=limits.feed_url,
        entry_key=key,
        link=link,
        link_key=link_key,
        title=title,
        summary=summary,
        content=content,
        published=published,
        author=author,
    )


def _collect(articles: Iterable[Article], max_items: int) -> tuple[Article, ...]:
    """The first ``max_items`` articles in document order; a repeated entry key (e.g. a
    duplicate guid) keeps only its first occurrence."""
    kept: dict[str, Article] = {}
    for article in articles:
        if len(kept) >= max_items:
            break
        kept.setdefault(article.entry_key, article)
    return tuple(kept.values())


def _struct_time(value: object) -> datetime | None:
    """feedparser's UTC ``time.struct_time`` as an aware datetime, or None if implausible."""
    if not isinstance(value, tuple) or len(value) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in value[:6])
        when = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    return _plausible(when)


def _plausible(when: datetime) -> datetime | None:
    return when if MIN_YEAR <= when.year <= MAX_YEAR else None


def _ttl(value: object) -> float | None:
    """RSS ``<ttl>`` minutes as seconds; None when absent, not a number or not positive."""
    if not isinstance(value, str) or not value.strip().isdigit():
        return None
    minutes = int(value.strip())
    return minutes * 60.0 if 0 < minutes <= 10**6 else None


# --- JSON Feed ------------------------------------------------------------------------------------


def _parse_json_feed(body: bytes, limits: _Limits) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ParseError("not a feed: invalid JSON", url=limits.feed_url) from exc
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise ParseError("not a feed: JSON without a JSON Feed version", url=limits.feed_url)
    items = document.get("items")
    items = items if isinstance(items, list) else []
    articles = _collect(
        (_json_article(i, limits) for i in items if isinstance(i, dict)), limits.max_items
    )
    return ParsedFeed(
        title=_json_text(document.get("title"), limits.max_chars),
        articles=articles,
        link=_safe_link(document.get("home_page_url"), limits.feed_url),
        version=_JSON_FEED_VERSIONS.get(version.rstrip("/"), "json"),
    )


def _json_text(value: object, limit: int, content_type: str = "") -> str:
    return _to_text(value, content_type, limit) if isinstance(value, str) else ""


def _json_article(item: Mapping[str, Any], limits: _Limits) -> Article:
    guid = item.get("id")
    html = _json_text(item.get("content_html"), limits.max_chars, "text/html")
    content = html or _json_text(item.get("content_text"), limits.max_chars)
    published = _iso_date(item.get("date_published")) or _iso_date(item.get("date_modified"))
    return _article(
        limits,
        guid=str(guid) if isinstance(guid, str | int) and not isinstance(guid, bool) else None,
        link=_safe_link(item.get("url") or item.get("external_url"), limits.feed_url),
        title=_json_text(item.get("title"), limits.max_chars),
        summary=_json_text(item.get("summary"), limits.max_chars),
        content=content,
        published=published,
        author=_json_author(item, limits.max_chars),
    )


def _json_author(item: Mapping[str, Any], limit: int) -> str:
    """JSON Feed 1.1 ``authors`` (a list) or 1.0 ``author`` (one object): names joined."""
    authors = item.get("authors")
    if not isinstance(authors, list):
        authors = [item.get("author")]
    names = [a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)]
    return _collapse(", ".join(names))[:limit]


def _iso_date(value: object) -> datetime | None:
    """An RFC 3339 date as aware UTC (no zone means UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return _plausible(when.astimezone(UTC))
    except OverflowError:
        return None
