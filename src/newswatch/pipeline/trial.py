"""``newswatch try``: fetch (or read) feeds once and show every entry as newswatch sees it,
with the watches that would alert on it. Stores nothing, sends nothing.

    source -> fetch (URL) or read (PATH) -> [worker: parse] -> match -> TriedSource

The same stages as a poll, minus the store: no dedup, no ``first_run``, no stories, so a
user sees what the parser and the matcher make of a live feed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from newswatch.config import Settings
from newswatch.errors import ParseError
from newswatch.fetch import Fetcher
from newswatch.match import compile_watchlist
from newswatch.models import Article, FetchStatus, Match
from newswatch.parse import parse_feed
from newswatch.pipeline.runtime import fetcher_for
from newswatch.pipeline.workers import WorkerPool

__all__ = ["TriedEntry", "TriedSource", "try_sources"]


@dataclass(frozen=True, slots=True)
class TriedEntry:
    """One entry as newswatch sees it, and the watches that would alert on it."""

    article: Article
    matches: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class TriedSource:
    """One URL or file: its entries, or why none could be read."""

    source: str
    title: str = ""
    entries: tuple[TriedEntry, ...] = ()
    error: str | None = None

    @property
    def matched(self) -> bool:
        return any(entry.matches for entry in self.entries)


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


async def try_sources(
    settings: Settings,
    sources: Sequence[str],
    *,
    clock: Callable[[], datetime],
    watch: str | None = None,
) -> list[TriedSource]:
    """Every source fetched or read once, parsed within the usual caps, and matched."""
    if watch is not None:
        watches = tuple(w for w in settings.watches if w.name == watch)
        settings = settings.model_copy(update={"watches": watches})
    watchlist = compile_watchlist(settings)
    workers = WorkerPool(workers=1)
    fetcher = fetcher_for(settings, clock)
    try:
        tried = []
        for source in sources:
            body, error = await _body(source, fetcher, settings)
            if body is None:
                tried.append(TriedSource(source, error=error))
                continue
            try:
                parsed = await workers.run(
                    source, parse_feed, body, feed_url=source, content_type=""
                )
            except ParseError as exc:
                tried.append(TriedSource(source, error=str(exc)))
                continue
            entries = tuple(
                TriedEntry(a, tuple(_alerting(settings, watchlist.match(a), source)))
                for a in parsed.articles
            )
            tried.append(TriedSource(source, parsed.title, entries))
        return tried
    finally:
        await fetcher.aclose()
        workers.close()


async def _body(source: str, fetcher: Fetcher, settings: Settings) -> tuple[bytes | None, str]:
    """The document at ``source`` (a URL, fetched once; else a file, read within
    ``poll.max_bytes``), or None and why not."""
    if _is_url(source):
        result = await fetcher.fetch(source)
        if result.status is not FetchStatus.OK:
            return None, result.error or result.status.value
        return result.body, ""
    try:
        body = await asyncio.to_thread(_read, Path(source), settings.poll.max_bytes + 1)
    except OSError as exc:
        return None, f"cannot read {source}: {exc.strerror or exc}"
    if len(body) > settings.poll.max_bytes:
        return None, f"larger than poll.max_bytes ({settings.poll.max_bytes} bytes)"
    return body, ""


def _read(path: Path, limit: int) -> bytes:
    with path.open("rb") as file:
        return file.read(limit)


def _alerting(settings: Settings, matches: Sequence[Match], source: str) -> list[Match]:
    """The matches whose watch would alert for a feed at ``source`` (its ``feeds:`` scope;
    a file is in every watch's scope)."""
    by_name = {w.name: w for w in settings.watches}
    return [
        m for m in matches if not _is_url(source) or settings.watch_covers(by_name[m.watch], source)
    ]
