"""Well-formed RSS 2.0 and Atom 1.0 documents built from hostile pieces (hypothesis), for
checking that the fast parse path and the feedparser path agree on what both can read."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st

WORDS = [
    "Minsk", " talks ", "  ", "AT&T", "<b>bold</b>", "</p>", "&amp;", "&nbsp;", "&bogus;",
    "<p>para</p>", "<script>x()</script>", "<object>", "Ã©t\u00e9", "caf\u00e9", "\u0416",
    "\x85\x96", "\u00ad", "desk@news.media (Jane Doe)", "Jane <j@x.org>", "(Desk)",
    "Tue, 24 Nov 2026 10:00:00 +0300", "2026-11-24T10:00:00Z", "2013-xx-27", "\n\t",
    "<a href='/rel'>rel</a>", "<unknowntag>", "x", "<br/>", "&#8381;",
]  # fmt: skip
URLS = [
    "https://news.example.org/a?id=1&utm_source=x", "/root/path", "rel/path", "../up",
    "//proto.example.net/p", "javascript:alert(1)", "http:////slashes.example.org/x",
    " https://spaced.example.org/ ", "https://q.example.org/?a=1&amp;b=2", "", "42",
    "mailto:a@b.org", "https://x.example.org/#frag",
]  # fmt: skip
BASES = ["https://base.example.com/dir/", "/sub/", "rel/", "javascript:x"]


def _text(draw: st.DrawFn) -> str:
    raw = "".join(draw(st.lists(st.sampled_from(WORDS), max_size=5)))
    if draw(st.booleans()) and "]]>" not in raw:
        return f"<![CDATA[{raw}]]>"
    return escape(raw)


def _base(draw: st.DrawFn) -> str:
    return f" xml:base={quoteattr(draw(st.sampled_from(BASES)))}" if draw(st.booleans()) else ""


def _attr(draw: st.DrawFn, name: str, *choices: str) -> str:
    value = draw(st.sampled_from(["", *choices]))
    return f' {name}="{value}"' if value else ""


def _email(draw: st.DrawFn) -> str:
    return "<email>e@x.org</email>" if draw(st.booleans()) else ""


def _rel(draw: st.DrawFn, *choices: str) -> str:
    return _attr(draw, "rel", *choices)


def _type(draw: st.DrawFn, *choices: str) -> str:
    return _attr(draw, "type", *choices)


@st.composite
def rss_item(draw: st.DrawFn) -> str:
    """One <item> with a random choice, order and repetition of elements."""
    parts = []
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.integers(0, 17))
        text, url = _text(draw), escape(draw(st.sampled_from(URLS)))
        base = _base(draw) if draw(st.integers(0, 4)) == 0 else ""
        parts.append(
            [
                f"<title{base}>{text}</title>",
                f"<link{base}>{url}</link>",
                f"<description>{text}</description>",
                f"<content:encoded>{text}</content:encoded>",
                f"<guid{_attr(draw, 'isPermaLink', 'false', 'true', 'True')}{base}>{url}</guid>",
                f"<author>{text}</author>",
                f"<dc:creator>{text}</dc:creator>",
                f"<pubDate>{text}</pubDate>",
                f"<dc:date>{text}</dc:date>",
                f"<dcterms:created>{text}</dcterms:created>",
                f"<dc:created>{text}</dc:created>",
                f"<media:title>{text}</media:title>",
                f"<source url='https://s.example.org/'>{text}</source>",
                f"<atom:link href={quoteattr(url)}{_rel(draw, 'self', 'alternate', 'enclosure')}"
                f"{_type(draw, 'text/html', 'application/pdf')}{base}/>",
                f"<category>{text}</category><comments>{url}</comments>",
                f"<foo:bar>{text}</foo:bar>",
                f"<title{_type(draw, 'html', 'text', 'text/plain')}>{text}</title>",
                f"<ttl>{text}</ttl>",
            ][kind]
        )
    return f"<item{_base(draw) if draw(st.integers(0, 3)) == 0 else ''}>{''.join(parts)}</item>"


@st.composite
def rss_document(draw: st.DrawFn) -> bytes:
    """A well-formed UTF-8 RSS 2.0 document."""
    head = "".join(
        draw(
            st.lists(
                st.sampled_from(
                    [
                        f"<title>{_text(draw)}</title>",
                        f"<link>{escape(draw(st.sampled_from(URLS)))}</link>",
                        "<ttl>15</ttl>",
                        '<atom:link rel="self" href="https://self.example.org/feed"/>',
                    ]
                ),
                max_size=4,
            )
        )
    )
    items = "".join(draw(st.lists(rss_item(), max_size=4)))
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom"'
        f' xmlns:foo="urn:foo"><channel{_base(draw)}>{head}{items}</channel></rss>'
    ).encode()


@st.composite
def atom_entry(draw: st.DrawFn) -> str:
    """One Atom <entry>."""
    parts = []
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.integers(0, 9))
        text, url = _text(draw), quoteattr(draw(st.sampled_from(URLS)))
        word = escape(draw(st.sampled_from(WORDS)))
        xhtml = f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{word}</p> tail</div>'
        parts.append(
            [
                f"<title{_type(draw, 'text', 'html')}>{text}</title>",
                f'<title type="xhtml">{xhtml}</title>',
                f"<summary{_type(draw, 'text', 'html')}>{text}</summary>",
                f"<content{_type(draw, 'text', 'html')}>{text}</content>",
                f'<content type="xhtml">{xhtml}</content>',
                f"<link href={url}{_rel(draw, 'alternate', 'self', 'related')}{_base(draw)}/>",
                f"<id>{escape(draw(st.sampled_from(URLS)))}</id>",
                f"<author><name>{text}</name>{_email(draw)}</author>",
                f"<published>{text}</published>",
                f"<updated>{text}</updated>",
            ][kind]
        )
    return f"<entry{_base(draw)}>{''.join(parts)}</entry>"


@st.composite
def atom_document(draw: st.DrawFn) -> bytes:
    """A well-formed UTF-8 Atom 1.0 document."""
    entries = "".join(draw(st.lists(atom_entry(), max_size=4)))
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"'
        f"{_base(draw)}><title>{_text(draw)}</title>"
        f"<link href={quoteattr(draw(st.sampled_from(URLS)))}/>{entries}</feed>"
    ).encode()
