"""Tests for newswatch.parse.parse_feed: RSS, Atom and JSON feeds to plain-text Articles.

Golden files: each fixture ``tests/data/feeds/NAME`` has ``NAME.golden.json`` with the full
parse result. After an intended change, regenerate them with
``.venv/bin/python tests/test_parse.py`` and review the diff.
"""

from __future__ import annotations

import contextlib
import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newswatch.errors import ParseError
from newswatch.models import Article, ParsedFeed
from newswatch.parse import entry_key, parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
FEED_URL = "https://feeds.example.org/dir/feed.xml"

# fixture file -> the feed URL it is parsed with (relative links resolve against it)
GOLDEN = {
    "rss20.xml": "https://news.example.org/world/rss.xml",
    "rss10.rdf": "https://rdf.example.net/index.rdf",
    "atom10.xml": "https://atom.example.com/blog/feed.atom",
    "jsonfeed11.json": "https://json.example.org/feed.json",
    "jsonfeed10.json": "https://old.example.org/feed.json",
    "belarus_cp1251.xml": "https://belnews.example.by/rss.xml",
    "rss_cdata_html.xml": "https://cdata.example.org/rss",
    "rss_relative_links.xml": FEED_URL,
    "rss_missing_guids.xml": "https://noguid.example.org/rss",
    "rss_duplicate_guids.xml": "https://dup.example.org/rss",
    "rss_odd_dates.xml": "https://dates.example.org/rss",
    "rss_dates_world.xml": "https://world-dates.example.net/rss",
    "rss_authors.xml": "https://bylines.example.com/rss",
    "atom_authors.xml": "https://bylines.example.com/atom",
    "jsonfeed10_wild.json": "https://wild.example.net/feed.json",
    "jsonfeed11_wild.json": "https://wild11.example.net/feed.json",
    "rss_cut_html.xml": "https://cut.example.org/rss",
    "billion_laughs.xml": "https://laughs.example.org/rss",
    "rss091.xml": "http://oldschool.example.net/rss.xml",
    "rss092.xml": "https://dispatch.example.org/rss",
    "atom03.xml": "https://atom03.example.com/atom.xml",
    "atom10_odd.xml": "https://odd.example.com/feeds/main.atom",
    "rss20_namespaces.xml": "https://soup.example.org/feed",
    "utf16le_bom.xml": "https://utf16.example.by/rss",
    "koi8r.xml": "https://koi8.example.ru/rss",
    "shift_jis.xml": "https://sjis.example.jp/rss",
    "gb18030.xml": "https://gb.example.cn/rss",
    "iso8859_7.xml": "https://el.example.gr/rss",
}


def load(name: str, **options: Any) -> ParsedFeed:
    """Parse a fixture with the feed URL it is registered with."""
    return parse_feed((FEEDS / name).read_bytes(), feed_url=GOLDEN.get(name, FEED_URL), **options)


def render(feed: ParsedFeed) -> dict[str, Any]:
    """A parse result as JSON-friendly data, for golden comparison."""

    def article(a: Article) -> dict[str, Any]:
        fields = {name: getattr(a, name) for name in Article.__slots__}
        fields["published"] = a.published.isoformat() if a.published else None
        return fields

    rendered = {
        "title": feed.title,
        "link": feed.link,
        "ttl": feed.ttl,
        "version": feed.version,
        "articles": [article(a) for a in feed.articles],
    }
    if feed.warning:
        rendered["warning"] = feed.warning
    return rendered


def golden_path(name: str) -> Path:
    return FEEDS / f"{name}.golden.json"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name: str) -> None:
    """Each fixture parses to exactly its reviewed golden result."""
    expected = json.loads(golden_path(name).read_text(encoding="utf-8"))
    assert render(load(name)) == expected


def by_key(feed: ParsedFeed) -> dict[str, Article]:
    return {a.entry_key: a for a in feed.articles}


# --- formats ---------------------------------------------------------------------------------


def test_rss20_fields() -> None:
    """RSS 2.0: guid is the key, tracking params leave link_key, CDATA content is text."""
    feed = load("rss20.xml")
    assert (feed.title, feed.version, feed.ttl) == ("Example World News", "rss20", 900.0)
    first = feed.articles[0]
    assert first.entry_key == "example-world-10001"
    assert first.link_key == "https://news.example.org/world/2026/11/24/belarus-election?id=42"
    assert first.content.startswith("President Alexander Lukashenko claimed victory on Sunday.")
    assert "Leaked documents seen by Example" in first.content
    assert first.summary == "President Alexander Lukashenko claimed victory — again."
    assert first.published == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert first.author == "Jane Reporter"


def test_rss20_author_email_reduced_to_name() -> None:
    """An RSS author 'email (Name)' gives the name."""
    assert load("rss20.xml").articles[1].author == "Business Desk"


def test_rss10_rdf() -> None:
    """RSS 1.0 (RDF) items are read, keyed by their rdf:about, with dc:date."""
    feed = load("rss10.rdf")
    assert feed.version == "rss10"
    assert [a.entry_key for a in feed.articles] == [
        "https://rdf.example.net/a/1",
        "https://rdf.example.net/a/2",
    ]
    assert feed.articles[0].published == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


def test_atom10() -> None:
    """Atom: xml:base resolves links, html titles and xhtml content become text."""
    feed = load("atom10.xml")
    assert (feed.title, feed.version, feed.link) == (
        "Atom & Eve",
        "atom10",
        "https://atom.example.com/",
    )
    first, second = feed.articles
    assert first.link == "https://atom.example.com/blog/posts/leaked-documents"
    assert first.title == "Leaked documents published"
    assert first.content == "Body with a link.\nSecond paragraph."
    assert first.published == datetime(2026, 11, 24, 5, 45, tzinfo=UTC)
    assert second.published == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # from <updated>


def test_atom_plain_text_keeps_angle_brackets() -> None:
    """A type="text" field is not treated as HTML."""
    assert load("atom10.xml").articles[0].summary == "A short summary <not a tag>."


def test_atom_content_only_has_no_copied_summary() -> None:
    """An entry without a summary gets an empty summary, not a copy of its content."""
    second = load("atom10.xml").articles[1]
    assert (second.summary, second.content) == ("", "Escaped & HTML")


def test_json_feed_11() -> None:
    """JSON Feed 1.1: ids, HTML content, authors list, relative url, numeric id."""
    feed = load("jsonfeed11.json")
    assert (feed.title, feed.version, feed.link) == (
        "JSON Daily",
        "json11",
        "https://json.example.org/",
    )
    items = by_key(feed)
    assert items["2026-11-24-1"].content == "Thousands gathered in Minsk.\nPolice & protesters."
    assert items["2026-11-24-1"].author == "Olga, Pavel"
    assert items["2026-11-24-1"].published == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert items["12345"].link == "https://json.example.org/2026/11/23/relative"
    assert items["12345"].content == "Plain text body"


def test_json_feed_duplicate_and_unsafe_items() -> None:
    """JSON Feed: a repeated id keeps the first item; javascript: urls are dropped."""
    items = by_key(load("jsonfeed11.json"))
    assert items["2026-11-24-1"].title == "Protest in Minsk"
    assert items["js"].link is None
    assert len(items) == 3


def test_json_feed_10_author_object() -> None:
    """JSON Feed 1.0's single author object is read."""
    feed = load("jsonfeed10.json")
    assert feed.version == "json1"
    assert feed.articles[0].author == "Single Author"


@pytest.mark.parametrize(
    ("name", "key", "author"),
    [
        ("rss_authors.xml", "email-then-name", "Jane Doe"),  # feedparser: "a (Jane Doe"
        ("rss_authors.xml", "name-then-email", "Jane Doe"),  # feedparser: "Jane Doe <a>"
        ("rss_authors.xml", "bare-email", "desk@news.media"),  # feedparser: "a"
        ("rss_authors.xml", "mailto", "Night Desk"),
        ("rss_authors.xml", "quoted", "Doe, Jane"),
        ("rss_authors.xml", "name-only", "Алесь Пятровіч"),
        ("rss_authors.xml", "parentheses", "Jane Doe (Minsk)"),
        ("atom_authors.xml", "urn:example:name-and-email", "Jane Doe (Minsk)"),
        ("atom_authors.xml", "urn:example:email-only", "desk@news.media"),
        ("atom_authors.xml", "urn:example:name-holding-address", "Jane Doe"),
    ],
)
def test_authors_not_cut_apart(name: str, key: str, author: str) -> None:
    """Authors come from the text the feed wrote: an address beside a name goes, the name
    stays whole; a bare address stays as it is."""
    assert by_key(load(name))[key].author == author


def test_json_feed_as_written_in_the_wild_10() -> None:
    """JSON Feed 1.0 from http://jsonfeed.org: numeric ids become strings, items without an
    author have the feed's, RFC 822 and lower-case t/z dates are read."""
    feed = load("jsonfeed10_wild.json")
    assert feed.version == "json1"
    items = by_key(feed)
    assert list(items) == ["1001", "1002", "own-author", "garbage-date", "no-date"]
    assert [a.author for a in feed.articles[:3]] == ["Feed Desk", "Feed Desk", "Item Writer"]
    assert items["1001"].published == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert items["1002"].published == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert items["own-author"].published == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert items["garbage-date"].published == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert items["no-date"].published is None


def test_json_feed_as_written_in_the_wild_11() -> None:
    """JSON Feed 1.1 with a www. version URL and a trailing slash: feed authors inherited
    (also by an empty authors list), an item's own authors win."""
    feed = load("jsonfeed11_wild.json")
    assert feed.version == "json11"
    assert [a.author for a in feed.articles] == ["Olga, Pavel", "Ivan", "Olga, Pavel"]
    assert feed.articles[0].entry_key == "7"
    assert feed.articles[1].published == datetime(2023, 12, 16, 14, 2, 33, tzinfo=UTC)


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("https://jsonfeed.org/version/1", "json1"),
        ("http://jsonfeed.org/version/1", "json1"),
        ("https://jsonfeed.org/version/1.1", "json11"),
        ("HTTPS://JSONFEED.ORG/version/1.1/", "json11"),
        ("https://jsonfeed.org/version/2", "json"),
        ("https://jsonfeed.org/version/1/extra", "json1"),
    ],
)
def test_json_feed_any_version_url(version: str, name: str) -> None:
    """Any jsonfeed.org/version/... URL is a JSON Feed."""
    body = json.dumps({"version": version, "items": [{"id": "a"}]}).encode()
    assert parse_feed(body, feed_url=FEED_URL).version == name


def test_belarus_cp1251() -> None:
    """A windows-1251 feed in Russian, Belarusian and Ukrainian decodes correctly."""
    feed = load("belarus_cp1251.xml")
    assert feed.title == "Новости Беларуси — Навіны Беларусі"
    titles = [a.title for a in feed.articles]
    assert titles == [
        "Лукашенко заявил о победе на выборах в Беларуси",
        "Лукашэнка абвясціў перамогу ў Беларусі",
        "Лукашенко заявив про перемогу в Білорусі",
    ]
    assert feed.articles[0].summary == "«Утечка документов» — Белоруссия, Минск."
    assert "ґрунтовно" in feed.articles[2].summary


def test_wrong_http_charset_does_not_garble() -> None:
    """A windows-1251 body labelled utf-8 by the server still decodes to Cyrillic."""
    body = (FEEDS / "belarus_cp1251.xml").read_bytes()
    feed = parse_feed(body, feed_url=FEED_URL, content_type="text/xml; charset=utf-8")
    assert feed.articles[1].title == "Лукашэнка абвясціў перамогу ў Беларусі"


def test_cdata_html_is_plain_text() -> None:
    """CDATA HTML: scripts, styles, noscript, iframes dropped; blocks give lines."""
    article = load("rss_cdata_html.xml").articles[0]
    assert article.title == "Minsk & Vilnius talks"
    assert article.summary == (
        "Headline\nFirst paragraph with a link.\nOne\nTwo <three>\nLine\nbreak\nagain\n"
        "cell a cell b"
    )
    for hidden in ("tracking", "color", "Enable JavaScript", "ad text", "comment"):
        assert hidden not in article.summary


@pytest.mark.parametrize(
    ("key", "summary"),
    [
        ("unclosed-object", "Watch the briefing:\nThe minister said talks would resume on Monday."),
        ("unclosed-iframe", "The map:\nRoads around Minsk stay closed until Friday."),
        ("embed", "The clip:\nCrowds gathered outside the station."),
        ("closed-object", "Talks resumed."),
        ("cut-tail-plain", "Talks resumed in Vilnius. The minister said"),
        ("cut-tail-html", "Talks resumed in Vilnius.\nThe minister said"),
        ("unclosed-title", "Before the rest of the text"),
    ],
)  # fmt: skip
def test_cut_and_unclosed_html(key: str, summary: str) -> None:
    """An unclosed <object>/<iframe> does not swallow the rest of a description; a tag cut
    off at the end is dropped, not shown."""
    assert by_key(load("rss_cut_html.xml"))[key].summary == summary


def test_relative_links_resolved() -> None:
    """Relative, dot-segment, protocol-relative and xml:base links become absolute."""
    links = {a.entry_key: a.link for a in load("rss_relative_links.xml").articles}
    assert links["rel-1"] == "https://feeds.example.org/news/1"
    assert links["rel-2"] == "https://feeds.example.org/dir/story.html"
    assert links["rel-3"] == "https://feeds.example.org/up/3.html"
    assert links["rel-4"] == "https://cdn.example.net/4"
    assert links["rel-5"] == "https://mirror.example.net/base/five.html"


@pytest.mark.parametrize("key", ["rel-6", "rel-7", "rel-8"])
def test_unsafe_links_dropped(key: str) -> None:
    """javascript:, data: and mailto: links are dropped (the article stays)."""
    article = by_key(load("rss_relative_links.xml"))[key]
    assert (article.link, article.link_key) == (None, None)


def test_control_characters_removed_from_links() -> None:
    """A link with CR/LF or tabs inside loses them (they must never reach a header)."""
    body = (
        b"<rss version='2.0'><channel><title>x</title><item><guid>g</guid>"
        b"<link>https://ex.org/a&#13;&#10;Bcc: x@evil.example\t/b</link></item></channel></rss>"
    )
    article = parse_feed(body, feed_url=FEED_URL).articles[0]
    assert article.link == "https://ex.org/aBcc: x@evil.example/b"


def test_missing_guid_uses_normalized_link() -> None:
    """Without a guid the key is the normalized link; a repeat of that link is dropped."""
    feed = load("rss_missing_guids.xml")
    keys = [a.entry_key for a in feed.articles]
    assert keys[0] == "https://noguid.example.org/story/1"
    assert feed.articles[0].title == "Has a link"
    assert len(keys) == 2


def test_missing_guid_and_link_uses_hash() -> None:
    """Without guid and link the key is the SHA-256 of title and text."""
    article = load("rss_missing_guids.xml").articles[1]
    assert article.entry_key == entry_key(None, None, article.title, f"{article.summary}\n")
    assert len(article.entry_key) == 64


def test_duplicate_guids_keep_first() -> None:
    """Entries repeating a guid inside one feed are dropped; the first one stays."""
    feed = load("rss_duplicate_guids.xml")
    assert [(a.entry_key, a.title) for a in feed.articles] == [
        ("same", "First"),
        ("other", "Third"),
    ]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("named-zone", datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
        ("no-weekday", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        ("iso", datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
        ("dc-date", datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
        ("garbage", None),
        ("far-future", None),
        ("far-past", None),
        ("none", None),
    ],
)
def test_odd_dates(key: str, expected: datetime | None) -> None:
    """Dates become aware UTC; unreadable or implausible (year 2999, 1900) ones are None."""
    assert by_key(load("rss_odd_dates.xml"))[key].published == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ru", datetime(2022, 11, 15, 21, 38, 15, tzinfo=UTC)),
        ("uk", datetime(2022, 11, 15, 22, 38, 15, tzinfo=UTC)),
        ("be", datetime(2022, 11, 15, 21, 38, 15, tzinfo=UTC)),
        ("it", datetime(2022, 11, 15, 23, 38, 15, tzinfo=UTC)),
        ("de", datetime(2023, 3, 16, 9, 0, tzinfo=UTC)),
        ("fr", datetime(2022, 2, 17, 9, 0, tzinfo=UTC)),
        ("es", datetime(2023, 1, 2, 9, 0, tzinfo=UTC)),
        ("pl", datetime(2022, 11, 15, 23, 38, 15, tzinfo=UTC)),
        ("pm", datetime(2023, 12, 16, 14, 2, 33, tzinfo=UTC)),
        ("msk", datetime(2022, 11, 16, 10, 0, tzinfo=UTC)),
        ("cet", datetime(2022, 11, 16, 10, 0, tzinfo=UTC)),
        ("garbage", None),
        ("garbage-then-created", datetime(2022, 11, 16, 7, 0, tzinfo=UTC)),
        ("dcterms-created", datetime(2022, 11, 16, 9, 0, tzinfo=UTC)),
        ("dc-created", datetime(2022, 11, 16, 7, 0, tzinfo=UTC)),
        ("impossible", None),
    ],
)
def test_dates_of_the_world(key: str, expected: datetime | None) -> None:
    """Month names in other languages, AM/PM and zone names are read from the feed's text;
    garbage and impossible days are no date; created is read when nothing better exists."""
    assert by_key(load("rss_dates_world.xml"))[key].published == expected


def test_permalink_guid_that_is_not_a_url() -> None:
    """A bare <guid>id</guid> is kept verbatim as the key and not used as a link."""
    article = by_key(load("rss_odd_dates.xml"))["named-zone"]
    assert (article.link, article.entry_key) == (None, "named-zone")


def test_keys_do_not_depend_on_feed_url() -> None:
    """The same document served from another URL yields the same entry keys."""
    body = (FEEDS / "rss_odd_dates.xml").read_bytes()
    one = parse_feed(body, feed_url="https://a.example.org/rss")
    two = parse_feed(body, feed_url="https://mirror.example.net/x/rss")
    assert [a.entry_key for a in one.articles] == [a.entry_key for a in two.articles]


def test_feed_url_recorded_on_articles() -> None:
    """Each article carries the feed URL it was parsed for."""
    feed = parse_feed((FEEDS / "rss20.xml").read_bytes(), feed_url="https://x.example/f")
    assert {a.feed_url for a in feed.articles} == {"https://x.example/f"}


# --- limits ----------------------------------------------------------------------------------


def rss(items: int, text: str = "text") -> bytes:
    """A generated RSS document with ``items`` items."""
    body = "".join(
        f"<item><guid>g{i}</guid><title>t{i}</title><description>{text}</description></item>"
        for i in range(items)
    )
    return f"<rss version='2.0'><channel><title>gen</title>{body}</channel></rss>".encode()


def test_max_items_keeps_first_in_document_order() -> None:
    """Only the first max_items entries, in document order, are kept."""
    feed = parse_feed(rss(10), feed_url=FEED_URL, max_items=3)
    assert [a.entry_key for a in feed.articles] == ["g0", "g1", "g2"]


def test_max_field_chars_caps_every_text_field() -> None:
    """Text fields are cut at max_field_chars."""
    feed = parse_feed(rss(1, "word " * 1000), feed_url=FEED_URL, max_field_chars=50)
    assert len(feed.articles[0].summary) == 50


def test_max_items_cut_before_parsing_keeps_the_same_entries() -> None:
    """A document with more entries than max_items parses to the same first entries as
    one that has only those entries."""
    capped = parse_feed(rss(5000), feed_url=FEED_URL, max_items=1000)
    assert capped.articles == parse_feed(rss(1000), feed_url=FEED_URL).articles


def test_wrong_declared_charset_is_a_warning() -> None:
    """A document declared UTF-8 that is not UTF-8 still parses, with a warning."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid>1</guid><title>Лукашенко</title></item></channel></rss>"
    ).encode("cp1251")
    feed = parse_feed(body, feed_url=FEED_URL)
    assert len(feed.articles) == 1
    assert feed.warning == (
        "the document is not valid utf-8 as declared: read as windows-1252, "
        "so its text may be garbled"
    )


def test_correct_feed_has_no_warning() -> None:
    """A well-formed, correctly declared feed has no warning."""
    assert load("belarus_cp1251.xml").warning is None


def test_ttl_ignored_when_not_a_number() -> None:
    """A non-numeric <ttl> gives no ttl."""
    body = b"<rss version='2.0'><channel><title>x</title><ttl>soon</ttl></channel></rss>"
    assert parse_feed(body, feed_url=FEED_URL).ttl is None


def test_empty_feed_is_valid() -> None:
    """A well-formed feed without items parses to no articles (not an error)."""
    body = b"<rss version='2.0'><channel><title>quiet</title></channel></rss>"
    feed = parse_feed(body, feed_url=FEED_URL)
    assert (feed.title, feed.articles) == ("quiet", ())


# --- not a feed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"  \n\t ", "empty body"),
        ((FEEDS / "not_a_feed.html").read_bytes(), "not a feed: the document is an HTML page"),
        (b"\x00\x01\x02garbage\xff\xfe", "not a feed"),
        (b"just some text", "not a feed"),
        (b'{"title": "no version"}', "not a feed: JSON without a JSON Feed version"),
        (b"{not json", "not a feed: invalid JSON"),
        (b"[" * 100_000, "not a feed"),
        (b"{" * 100_000, "not a feed: invalid JSON"),
    ],
)
def test_not_a_feed(body: bytes, message: str) -> None:
    """Documents that are not feeds raise ParseError with a clear message."""
    with pytest.raises(ParseError, match="^" + message):
        parse_feed(body, feed_url=FEED_URL)


def test_parse_error_names_url() -> None:
    """ParseError carries the feed URL."""
    with pytest.raises(ParseError) as info:
        parse_feed(b"<html><body>hi</body></html>", feed_url=FEED_URL)
    assert info.value.url == FEED_URL


def test_body_that_looks_like_a_path_is_not_opened(tmp_path: Path) -> None:
    """A body naming a local file is parsed as text, never opened."""
    secret = tmp_path / "feed.xml"
    secret.write_bytes(b"<rss version='2.0'><channel><title>SECRET</title></channel></rss>")
    with pytest.raises(ParseError):
        parse_feed(str(secret).encode(), feed_url=FEED_URL)


def test_body_that_looks_like_a_url_is_not_fetched() -> None:
    """A body holding a URL is parsed as text, never fetched."""
    with pytest.raises(ParseError):
        parse_feed(b"http://127.0.0.1:9/feed.xml", feed_url=FEED_URL)


# --- hostile XML ------------------------------------------------------------------------------


def test_external_entity_is_not_resolved(tmp_path: Path) -> None:
    """An XXE entity pointing at a local file is never expanded."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><title>t &xxe;</title>
<item><guid>x</guid><title>&xxe;</title><description>&xxe;</description></item>
</channel></rss>""".encode()
    feed = parse_feed(body, feed_url=FEED_URL)
    assert "TOPSECRET" not in repr(feed)


def test_external_dtd_is_not_loaded(tmp_path: Path) -> None:
    """A parameter entity / external DTD reference is not followed."""
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "TOPSECRET-DTD">')
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "file://{dtd}">
<rss version="2.0"><channel><title>&leak;</title>
<item><guid>x</guid><title>&leak;</title></item></channel></rss>""".encode()
    try:
        feed = parse_feed(body, feed_url=FEED_URL)
    except ParseError:
        return
    assert "TOPSECRET" not in repr(feed)


def test_billion_laughs_not_expanded() -> None:
    """Nested entity definitions are not expanded (the text stays tiny)."""
    article = load("billion_laughs.xml").articles[0]
    assert "lollol" not in article.title + article.summary
    assert len(article.title) < 100


# --- purity -----------------------------------------------------------------------------------


def test_parse_feed_and_results_pickle() -> None:
    """parse_feed, its result and its error survive pickling (it runs in a process pool)."""
    assert pickle.loads(pickle.dumps(parse_feed)) is parse_feed
    feed = load("rss20.xml")
    assert pickle.loads(pickle.dumps(feed)) == feed
    error = ParseError("not a feed", url=FEED_URL)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.url) == ("not a feed", FEED_URL)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_parse_raises_only_parse_error_on_bytes(body: bytes) -> None:
    """Arbitrary bytes either parse or raise ParseError, nothing else."""
    with contextlib.suppress(ParseError):
        parse_feed(body, feed_url=FEED_URL)


XMLISH = st.lists(
    st.sampled_from(
        [
            "<rss version='2.0'>", "<channel>", "<item>", "</item>", "<title>", "</title>",
            "<guid>", "</guid>", "<link>", "</link>", "<description>", "<![CDATA[", "]]>",
            "<feed xmlns='http://www.w3.org/2005/Atom'>", "<entry>", "</entry>", "&amp;",
            "&bogus;", "&#0;", "<p>", "javascript:x", "http://", "/rel", "<pubDate>",
            "</pubDate>", "Tue, 24 Nov 2026", "\x00", "é", "Ё", "<", ">", '"', "{", "}",
        ]
    ),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(XMLISH, st.sampled_from(["", "application/rss+xml", "text/html; charset=koi8-r"]))
def test_parse_raises_only_parse_error_on_feedlike_text(text: str, content_type: str) -> None:
    """Feed-shaped junk either parses to valid Articles or raises ParseError."""
    try:
        feed = parse_feed(text.encode(), feed_url=FEED_URL, content_type=content_type)
    except ParseError:
        return
    for article in feed.articles:
        assert article.link is None or article.link.startswith(("http://", "https://"))
        assert article.published is None or article.published.tzinfo is UTC


def write_goldens() -> None:
    """Regenerate every golden file from the current parser (review the diff!)."""
    for name in sorted(GOLDEN):
        text = json.dumps(render(load(name)), ensure_ascii=False, indent=2) + "\n"
        golden_path(name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_goldens()
