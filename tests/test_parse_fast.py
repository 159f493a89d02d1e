"""The lxml fast path against the feedparser path: identical results where it reads a
document, a fallback to feedparser everywhere else.

Every XML fixture in tests/data/feeds/ goes through both paths; ``FALLS_BACK`` lists the
ones the fast path declines, and why (a fixture newly read by the fast path, or newly
declined, fails here until the list says so).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newswatch.parse.articles import Limits
from newswatch.parse.caps import cap_entries
from newswatch.parse.fastxml import parse_fast
from newswatch.parse.xmlfeed import parse_with_feedparser
from support.feedgen import atom_document, rss_document
from test_fuzz import mutated

FEEDS = Path(__file__).parent / "data" / "feeds"
XML_FIXTURES = sorted(p.name for p in FEEDS.iterdir() if p.suffix in (".xml", ".rdf"))
LIMITS = Limits("https://feeds.example.org/dir/feed.xml", 1000, 100_000)

# fixture -> why the fast path leaves it to feedparser
FALLS_BACK = {
    "atom03.xml": "Atom 0.3",
    "belarus_cp1251.xml": "not UTF-8 (windows-1251)",
    "billion_laughs.xml": "DOCTYPE with entities",
    "gb18030.xml": "not UTF-8",
    "iso8859_7.xml": "not UTF-8",
    "koi8r.xml": "not UTF-8",
    "rss091.xml": "DOCTYPE (and ISO-8859-1)",
    "shift_jis.xml": "not UTF-8",
    "utf16le_bom.xml": "not UTF-8 (UTF-16)",
}


def both(name: str, content_type: str = "") -> tuple[object, object]:
    body = cap_entries((FEEDS / name).read_bytes(), LIMITS.max_items)
    return parse_fast(body, content_type, LIMITS), parse_with_feedparser(body, content_type, LIMITS)


@pytest.mark.parametrize("name", XML_FIXTURES)
def test_fast_path_matches_feedparser(name: str) -> None:
    """Where the fast path reads a fixture, its result equals feedparser's, field by field."""
    fast, slow = both(name)
    if name in FALLS_BACK:
        assert fast is None, f"{name} is now read by the fast path: remove it from FALLS_BACK"
        return
    assert fast is not None, f"{name} fell back to feedparser"
    assert fast == slow


@pytest.mark.parametrize("content_type", ["text/xml", "application/rss+xml; charset=latin-1"])
def test_charset_feedparser_overrides_falls_back(content_type: str) -> None:
    """A content type whose charset feedparser would use instead of UTF-8 falls back."""
    assert both("rss20.xml", content_type)[0] is None


def test_utf8_content_type_is_fast() -> None:
    """``charset=utf-8`` (or a non-text type without a charset) keeps the fast path."""
    for content_type in ("application/rss+xml; charset=UTF-8", "application/xml"):
        fast, slow = both("rss20.xml", content_type)
        assert fast is not None and fast == slow


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    """An XXE document is declined by the fast path (feedparser leaves it literal)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss version='2.0'><channel><title>t</title><item><title>&x;</title></item>"
        "</channel></rss>"
    ).encode()
    assert parse_fast(body, "", LIMITS) is None
    parsed = parse_with_feedparser(body, "", LIMITS)
    assert all("TOPSECRET" not in a.title for a in parsed.articles)


@settings(
    max_examples=int(os.environ.get("NEWSWATCH_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_fast_path_matches_feedparser_on_mutated_feeds(body: bytes) -> None:
    """On mutated fixtures, whenever the fast path reads the document, feedparser agrees."""
    body = cap_entries(body, LIMITS.max_items)
    fast = parse_fast(body, "", LIMITS)
    if fast is not None:
        assert fast == parse_with_feedparser(body, "", LIMITS)


@settings(
    max_examples=int(os.environ.get("NEWSWATCH_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.one_of(rss_document(), atom_document()))
def test_fast_path_matches_feedparser_on_generated_feeds(body: bytes) -> None:
    """On generated well-formed feeds with hostile text, links, bases and element orders,
    whenever the fast path reads the document, feedparser agrees exactly."""
    fast = parse_fast(body, "", LIMITS)
    if fast is not None:
        assert fast == parse_with_feedparser(body, "", LIMITS)
