"""Build small RSS and Atom documents for end-to-end tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Item:
    """One entry of a generated feed."""

    guid: str
    title: str
    link: str
    summary: str = ""
    published: datetime | None = None


def rss(title: str, items: list[Item]) -> bytes:
    """An RSS 2.0 document."""
    parts = [
        f"<rss version='2.0'><channel><title>{escape(title)}</title>"
        "<link>https://example.org/</link><description>test</description>"
    ]
    for item in items:
        when = item.published or datetime.now(UTC)
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
            f"<guid isPermaLink='false'>{escape(item.guid)}</guid>"
            f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
            f"<description>{escape(item.summary)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def atom(title: str, items: list[Item]) -> bytes:
    """An Atom 1.0 document."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [
        f"<feed xmlns='http://www.w3.org/2005/Atom'><title>{escape(title)}</title>"
        f"<id>urn:test:{escape(title)}</id><updated>{now}</updated>"
    ]
    for item in items:
        when = (item.published or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts.append(
            f"<entry><title>{escape(item.title)}</title><id>{escape(item.guid)}</id>"
            f"<link href='{escape(item.link)}'/><updated>{when}</updated>"
            f"<summary>{escape(item.summary)}</summary></entry>"
        )
    parts.append("</feed>")
    return "".join(parts).encode("utf-8")
