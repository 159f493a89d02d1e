"""Delivery tests in process: a real SQLite outbox, real notifiers, real loopback
receivers, a clock the test moves."""

from __future__ import annotations

import io
import ssl
import textwrap
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswatch.config import Settings, loads_config
from newswatch.models import Article, DeliveryState, Hit, Match
from newswatch.notify import Notifier, build_notifiers
from newswatch.pipeline.runtime import Runtime, open_runtime
from newswatch.store import FeedUpdate, PendingAlert, SQLiteStore

FEED = "https://wire.example/rss"


class Clock:
    """A wall clock that moves only when the test says so (or follows real time)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_settings(tmp_path: Path, destinations: str, watches: str = "") -> Settings:
    """A configuration with one feed, a watch ``belarus`` (unless ``watches`` replaces
    it) and the given ``destinations`` YAML list."""
    watches = watches or "- {name: belarus, keywords: [Lukashenko]}"
    text = (
        f"database: {tmp_path / 'state.db'}\n"
        f"feeds: [{{url: '{FEED}', name: Wire}}]\n"
        f"watches:\n{textwrap.indent(textwrap.dedent(watches).strip(), '  ')}\n"
        f"destinations:\n{textwrap.indent(textwrap.dedent(destinations).strip(), '  ')}\n"
    )
    return loads_config(text, tmp_path / "watchlist.yaml", {})


def seed(
    settings: Settings,
    count: int,
    *,
    now: datetime | None = None,
    watch: str = "belarus",
    start: int = 0,
    title: str = "Lukashenko speaks ({n})",
    link: str | None = "https://wire.example/{n}",
    destinations: Sequence[str] | None = None,
    summary: str = "Alexander Lukashenko said so.",
) -> list[str]:
    """Record ``count`` new articles that each alert ``watch``; returns the alert ids."""
    names = tuple(destinations or [d.name for d in settings.destinations])
    now = now or datetime.now(UTC)
    store = SQLiteStore(settings.database)
    try:
        articles = [
            Article(
                feed_url=FEED,
                entry_key=f"{watch}-{n}",
                link=link.format(n=n) if link else None,
                link_key=link.format(n=n) if link else None,
                title=title.format(n=n),
                summary=summary,
                published=now,
            )
            for n in range(start, start + count)
        ]
        hit = Hit("Lukashenko", "title", 0, 10, "Lukashenko")
        pending = {
            a.entry_key: [PendingAlert(Match(watch, (hit,), f"…{summary[:200]}…"), names)]
            for a in articles
        }
        record = store.commit_poll(FEED, FeedUpdate(success=True), articles, pending, now)
    finally:
        store.close()
    return list(record.alerts)


def states(settings: Settings) -> dict[str, list[DeliveryState]]:
    """Each destination's delivery states, oldest delivery first."""
    store = SQLiteStore(settings.database)
    try:
        found: dict[str, list[DeliveryState]] = {}
        for d in reversed(store.deliveries(limit=10_000)):
            found.setdefault(d.destination, []).append(d.state)
        return found
    finally:
        store.close()


@asynccontextmanager
async def runtime(
    settings: Settings,
    clock: Clock | None = None,
    *,
    stdout: io.StringIO | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[Runtime]:
    """The pipeline runtime the daemon would build, console output captured (in
    ``stdout``, if given); ``ssl_context`` is what notifiers trust (a test CA)."""
    out = stdout if stdout is not None else io.StringIO()
    async with open_runtime(settings, clock=clock or (lambda: datetime.now(UTC)), stdout=out) as rt:
        if ssl_context is not None:
            await _close_all(rt.notifiers)
            rt.notifiers = build_notifiers(
                settings.destinations, user_agent="test", stdout=out, ssl_context=ssl_context
            )
        yield rt


async def _close_all(notifiers: Mapping[str, Notifier]) -> None:
    for notifier in notifiers.values():
        await notifier.aclose()
