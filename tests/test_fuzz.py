"""Fuzzing parse + normalize + match with mutated real-world-shaped feeds (hypothesis).

Each example takes a document from tests/data/feeds/, mutates it (deletes, duplicates and
splices spans, flips bytes, injects hostile fragments: entities, CDATA ends, NULs, bidi
characters, javascript: links, wrong encodings...), and checks the invariants every later
stage relies on. CI runs a bounded number of examples; a longer run by hand:

    NEWSWATCH_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/test_fuzz.py -q
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newswatch.config import Settings, WatchSettings
from newswatch.errors import ParseError
from newswatch.match import compile_watchlist
from newswatch.models import Article
from newswatch.parse import MAX_YEAR, MIN_YEAR, normalize_url, parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
CORPUS = sorted(
    p.read_bytes() for p in FEEDS.iterdir() if p.suffix in (".xml", ".rdf", ".json", ".html")
)
EXAMPLES = int(os.environ.get("NEWSWATCH_FUZZ_EXAMPLES", "300"))
HOSTILE = [
    b"<!DOCTYPE rss [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;'>]>",
    b'<!ENTITY x SYSTEM "file:///etc/passwd">',
    b"&x;", b"&b;", b"&#0;", b"&#xD800;", b"&amp;", b"&nbsp;", b"&#8238;",
    b"]]>", b"<![CDATA[", b"<!--", b"-->", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
    b"<item>", b"</item>", b"<entry>", b"</entry>", b"<title>", b"</title>",
    b"<link>javascript:alert(1)</link>", b'<link href="data:text/html,x"/>',
    b'xml:base="javascript:/"', b"<guid>  </guid>", b'encoding="utf-16"',
    b'encoding="x-unknown"', b"<pubDate>Mon, 31 Feb 99999 25:61:61 +9999</pubDate>",
    "Лукашенко \u00ad\u200b\u202e Belarus".encode(), b"<script>alert(1)</script>",
    b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": 1}]}',
    b"https://EXAMPLE.org:443/a/../b?utm_source=x&id=%7e#f", b"\r\n", b"\t" * 50,
]  # fmt: skip
WATCHLIST = compile_watchlist(
    Settings(
        watches=(
            WatchSettings(name="names", keywords=("Lukashenko", "Лукашенко", "Belarus*")),
            WatchSettings(name="phrase", keywords=('"leaked documents"',), exclude=("hockey",)),
        )
    )
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A corpus document with a few random mutations."""
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            data += draw(st.sampled_from(HOSTILE))
            continue
        at = draw(st.integers(0, len(data)))
        end = min(len(data), at + draw(st.integers(0, 200)))
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "flip", "splice", "cut"]))
        if op == "insert":
            data[at:at] = draw(st.sampled_from(HOSTILE))
        elif op == "delete":
            del data[at:end]
        elif op == "duplicate":
            data[at:at] = data[at:end] * draw(st.integers(1, 20))
        elif op == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "splice":
            other = draw(st.sampled_from(CORPUS))
            start = draw(st.integers(0, len(other)))
            data[at:end] = other[start : start + draw(st.integers(0, 400))]
        elif op == "cut":
            del data[at:]
    return bytes(data)


def check_article(article: Article, max_chars: int) -> None:
    """The invariants later stages rely on."""
    assert article.entry_key and isinstance(article.entry_key, str)
    for text in (article.title, article.summary, article.content, article.author):
        assert isinstance(text, str) and len(text) <= max_chars
    if article.link is not None:
        parts = urlsplit(article.link)
        assert parts.scheme.lower() in ("http", "https") and parts.hostname
        assert not any(ch in article.link for ch in "\r\n\x00")
    if article.link_key is not None:
        assert normalize_url(article.link_key) == article.link_key  # idempotent
    if article.published is not None:
        assert article.published.utcoffset() == timedelta(0)
        assert MIN_YEAR <= article.published.year <= MAX_YEAR


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    body=mutated(),
    content_type=st.sampled_from(
        ["", "application/rss+xml", "text/xml; charset=koi8-r", "application/json", "text/html"]
    ),
    max_items=st.integers(1, 30),
    max_chars=st.integers(1, 500),
)
def test_parse_normalize_match_survive_mutated_feeds(
    body: bytes, content_type: str, max_items: int, max_chars: int
) -> None:
    """Parsing raises only ParseError; every article is bounded, safely linked, dated in
    range and normalized idempotently; matching never raises and its hits point at the
    text they quote."""
    try:
        feed = parse_feed(
            body,
            feed_url="https://fuzz.example.org/feed",
            content_type=content_type,
            max_items=max_items,
            max_field_chars=max_chars,
        )
    except ParseError:
        return
    assert len(feed.articles) <= max_items
    assert len({a.entry_key for a in feed.articles}) == len(feed.articles)
    for article in feed.articles:
        check_article(article, max_chars)
        for match in WATCHLIST.match(article):
            for hit in match.hits:
                assert getattr(article, hit.field)[hit.start : hit.end] == hit.text
