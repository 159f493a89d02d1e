"""Tests for newswatch.parse.identity: normalize_url, the cross-feed identity of a link
(SPEC §4), and entry_key, an article's identity within its feed."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.parse import entry_key, normalize_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host lower-cased, default ports dropped, empty path is "/"
        ("HTTP://Example.COM/Story", "http://example.com/Story"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        # fragment dropped
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?x=1#", "https://example.com/a?x=1"),
        # tracking parameters removed (denylist), others kept in order
        ("https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a"),
        ("https://example.com/a?UTM_Campaign=x&id=5", "https://example.com/a?id=5"),
        ("https://example.com/a?fbclid=1&gclid=2&dclid=3&msclkid=4", "https://example.com/a"),
        ("https://example.com/a?yclid=1&mc_cid=2&mc_eid=3&igshid=4", "https://example.com/a"),
        ("https://example.com/a?_ga=1&_gl=2&ref_src=twsrc", "https://example.com/a"),
        ("https://example.com/a?b=2&utm_term=x&a=1", "https://example.com/a?b=2&a=1"),
        ("https://example.com/a?storyid=55", "https://example.com/a?storyid=55"),
        ("https://example.com/a?ref=home&page=2", "https://example.com/a?ref=home&page=2"),
        ("https://example.com/a?id=1&id=2", "https://example.com/a?id=1&id=2"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/a?&&x=1&", "https://example.com/a?x=1"),
        ("https://example.com/a?flag", "https://example.com/a?flag"),
        ("https://example.com/a?utm_source", "https://example.com/a"),
        # percent escapes: upper-case hex, unreserved characters decoded, others encoded
        ("https://example.com/%7euser/%2f", "https://example.com/~user/%2F"),
        ("https://example.com/a%20b", "https://example.com/a%20b"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/a?q=a%2bb", "https://example.com/a?q=a%2Bb"),
        ("https://example.com/a?q=a+b", "https://example.com/a?q=a+b"),
        # IDN hosts to punycode, non-ASCII paths percent-encoded
        ("https://пример.рф/", "https://xn--e1afmkfd.xn--p1ai/"),
        ("https://Пример.РФ/", "https://xn--e1afmkfd.xn--p1ai/"),
        ("https://xn--e1afmkfd.xn--p1ai/", "https://xn--e1afmkfd.xn--p1ai/"),
        ("https://ex.by/навіны", "https://ex.by/%D0%BD%D0%B0%D0%B2%D1%96%D0%BD%D1%8B"),
        # IPv6 and user info survive
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://[2001:DB8::1]/x", "http://[2001:db8::1]/x"),
        ("https://user@example.com/x", "https://user@example.com/x"),
        # not http(s), or no host: no identity
        ("javascript:alert(1)", None),
        ("data:text/html,hi", None),
        ("mailto:editor@example.org", None),
        ("ftp://example.com/file", None),
        ("/relative/path", None),
        ("https://", None),
        ("http://example.com:99999/", None),
        ("http://[::1/", None),
        ("", None),
    ],
)
def test_normalize_url(url: str, expected: str | None) -> None:
    """Each URL normalizes to the documented form."""
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/news/1", "https://example.com/feed.xml", "https://example.com/news/1"),
        ("story.html", "https://example.com/dir/feed.xml", "https://example.com/dir/story.html"),
        ("../up.html", "https://example.com/a/b/feed.xml", "https://example.com/a/up.html"),
        ("//cdn.example.net/x", "https://example.com/feed", "https://cdn.example.net/x"),
        ("https://other.org/x", "https://example.com/feed", "https://other.org/x"),
        ("javascript:alert(1)", "https://example.com/feed", None),
    ],
)
def test_normalize_url_with_base(url: str, base: str, expected: str | None) -> None:
    """A relative link is resolved against the base first."""
    assert normalize_url(url, base) == expected


def test_same_story_different_tracking_is_same_key() -> None:
    """Two links to one story that differ only by tracking and fragment share a key."""
    a = normalize_url("https://News.example.org/2026/story?utm_source=twitter#top")
    b = normalize_url("https://news.example.org:443/2026/story?fbclid=XYZ")
    assert a == b == "https://news.example.org/2026/story"


def test_different_story_ids_are_different_keys() -> None:
    """Parameters that identify content are kept, so distinct stories stay distinct."""
    assert normalize_url("https://ex.com/view?storyid=55") != normalize_url(
        "https://ex.com/view?storyid=56"
    )


URL_PIECES = st.sampled_from(
    [
        "http://", "https://", "HTTP://", "ftp://", "//", "example.com", "Ex.ORG", "пример.рф",
        "xn--e1afmkfd.xn--p1ai", "[::1]", "127.0.0.1", ":80", ":443", ":8080", ":0", "/", "/a",
        "/%7e", "/%2F", "%", "%zz", "?", "&", "=", "#", "utm_source=x", "fbclid=1", "id=5",
        "a b", "ü", "+", "@", "user:pw@", "..", ".", ";", "\\", "\t", "\n", "\x00",
    ]
)  # fmt: skip
URLISH = st.lists(URL_PIECES, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(URLISH, st.text(max_size=60)))
def test_normalize_is_idempotent(url: str) -> None:
    """Normalizing a normalized URL changes nothing."""
    once = normalize_url(url)
    if once is not None:
        assert normalize_url(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.one_of(st.none(), URLISH))
def test_normalize_never_raises(url: str, base: str | None) -> None:
    """Any input gives a str or None, never an exception."""
    result = normalize_url(url, base)
    assert result is None or result.startswith(("http://", "https://"))


@settings(max_examples=200, deadline=None)
@given(URLISH)
def test_normalized_has_no_fragment_or_tracking(url: str) -> None:
    """A normalized URL never keeps a fragment or a utm_/fbclid parameter."""
    result = normalize_url(url)
    if result is not None:
        parts = urlsplit(result)
        names = [pair.partition("=")[0].lower() for pair in parts.query.split("&")]
        assert parts.fragment == ""
        assert "utm_source" not in names
        assert "fbclid" not in names


def test_entry_key_prefers_guid() -> None:
    """The guid wins over the link key."""
    assert entry_key("g-1", "https://ex.org/a", "t", "x") == "g-1"


def test_entry_key_blank_guid_falls_back_to_link() -> None:
    """A blank guid is no guid."""
    assert entry_key("  ", "https://ex.org/a", "t", "x") == "https://ex.org/a"


def test_entry_key_hash_of_title_and_text() -> None:
    """Without guid and link, the key is a SHA-256 hex over title and text."""
    expected = hashlib.sha256(b"title\x1ftext").hexdigest()
    assert entry_key(None, None, "title", "text") == expected
    assert entry_key(None, None, "titl", "etext") != expected
