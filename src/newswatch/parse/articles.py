"""What every feed format shares: the per-call limits, the one place an ``Article`` and
its identity keys are built, and the first-``max_items``, first-occurrence selection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from newswatch.models import Article
from newswatch.parse.identity import entry_key, normalize_url

__all__ = ["Limits", "build_article", "collect", "ttl_seconds"]


@dataclass(frozen=True, slots=True)
class Limits:
    """The per-call settings that every entry conversion needs."""

    feed_url: str
    max_items: int
    max_chars: int


def build_article(
    limits: Limits,
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


def collect(articles: Iterable[Article], max_items: int) -> tuple[Article, ...]:
    """The first ``max_items`` articles in document order; a repeated entry key (e.g. a
    duplicate guid) keeps only its first occurrence."""
    kept: dict[str, Article] = {}
    for article in articles:
        if len(kept) >= max_items:
            break
        kept.setdefault(article.entry_key, article)
    return tuple(kept.values())


def ttl_seconds(value: object) -> float | None:
    """RSS ``<ttl>`` minutes as seconds; None when absent, not a number or not positive."""
    if not isinstance(value, str) or not value.strip().isdigit():
        return None
    minutes = int(value.strip())
    return minutes * 60.0 if 0 < minutes <= 10**6 else None
