"""Building alerts and destinations for delivery tests, and running a notifier once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from newswatch.config.schema import Destination
from newswatch.models import Alert, Article, FeedRef, Hit, Sighting
from newswatch.notify import Notifier

FEED = FeedRef("Example World", "https://www.example.org/world/rss.xml")
PUBLISHED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 24, 10, 3, 7, tzinfo=UTC)

_DESTINATION: TypeAdapter[Destination] = TypeAdapter(Destination)


def make_alert(**changes: Any) -> Alert:
    """A realistic alert; keyword arguments replace Alert fields, and ``title``, ``link``,
    ``summary``, ``author``, ``published`` replace the article's."""
    article_fields = {"title", "link", "summary", "author", "published"}
    article = Article(
        feed_url=FEED.url,
        entry_key="guid-1",
        link="https://news.example.org/2026/11/24/lukashenko-victory?id=1&lang=en",
        link_key="news.example.org/2026/11/24/lukashenko-victory?id=1&lang=en",
        title="Lukashenko claims victory in Belarus",
        summary="Official results give Alexander Lukashenko a seventh term.",
        published=PUBLISHED,
        author="Jane Reporter",
    )
    article = replace(article, **{k: v for k, v in changes.items() if k in article_fields})
    alert = Alert(
        id="al_9f8e7d6c5b4a",
        watch="belarus",
        article=article,
        feed=FEED,
        matched=(
            Hit("Lukashenko", "title", 0, 10, "Lukashenko"),
            Hit("Belarus", "title", 29, 36, "Belarus", group="belarus"),
            Hit("Lukashenko", "summary", 37, 47, "Lukashenko"),
        ),
        snippet="…results give Alexander Lukashenko a seventh term…",
        created_at=CREATED,
        also=(
            Sighting(
                "Lukashenko wins again",
                "https://other.example.net/story/42",
                FeedRef("Other News", "https://other.example.net/feed.xml"),
            ),
        ),
    )
    return replace(alert, **{k: v for k, v in changes.items() if k not in article_fields})


def destination(**fields: Any) -> Destination:
    """A destination validated exactly as the configuration loader would."""
    return _DESTINATION.validate_python(fields)


def deliver(notifier: Notifier, *alerts: Alert) -> None:
    """Send ``alerts`` through ``notifier`` on a fresh event loop, then close it."""

    async def run() -> None:
        try:
            for alert in alerts:
                await notifier.send(alert)
        finally:
            await notifier.aclose()

    asyncio.run(run())
