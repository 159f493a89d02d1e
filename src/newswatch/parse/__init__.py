"""Parsing feed documents: bytes + content type -> ``ParsedFeed`` of plain-text ``Article``s.

feedparser reads RSS 0.9x/1.0/2.0 and Atom (:mod:`.xmlfeed`); JSON Feed 1.0/1.1 is read with
``json`` (:mod:`.jsonfeed`). Everything that leaves this package is typed, bounded plain
text: HTML is reduced to text with selectolax (:mod:`.html`), links are http(s) only, every
field is capped, dates are aware UTC (:mod:`.dates`). ``parse_feed`` is pure and picklable
so the pipeline can run it in a process pool.

Identity (DESIGN rule 7, :mod:`.identity`): ``entry_key`` is an article's identity within
its feed (guid, else normalized link, else a hash of title and text); ``normalize_url``
gives its identity across feeds.
"""

from __future__ import annotations

import codecs

from newswatch.errors import ParseError
from newswatch.models import ParsedFeed
from newswatch.parse.articles import Limits
from newswatch.parse.caps import cap_entries
from newswatch.parse.dates import MAX_YEAR, MIN_YEAR
from newswatch.parse.html import html_to_text
from newswatch.parse.identity import TRACKING_PARAMS, TRACKING_PREFIXES, entry_key, normalize_url
from newswatch.parse.jsonfeed import parse_json_feed
from newswatch.parse.xmlfeed import parse_xml_feed

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "cap_entries",
    "entry_key",
    "html_to_text",
    "normalize_url",
    "parse_feed",
]


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
    limits = Limits(feed_url, max_items, max_field_chars)
    if start.startswith(b"{"):
        return parse_json_feed(start, limits)
    return parse_xml_feed(cap_entries(body, max_items), content_type, limits)
