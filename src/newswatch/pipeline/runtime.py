"""The runtime every sequencer works with, built from one configuration: the store, the
fetcher, the worker pool, the compiled watchlist and the notifiers; and how a reload
swaps a new configuration in. Plus the one maintenance step, ``prune``.

Nothing here reads the clock or the environment: ``clock`` and the settings come from
the caller (``app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO
from urllib.parse import urlsplit

from newswatch.config import Settings
from newswatch.fetch import DEFAULT_USER_AGENT, Fetcher
from newswatch.match import Watchlist, compile_watchlist
from newswatch.notify import Notifier, build_notifiers
from newswatch.pipeline.workers import WorkerPool
from newswatch.store import AsyncStore, PruneReport, Store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything the pipeline needs, built by the daemon or the CLI from one configuration."""

    settings: Settings
    store: AsyncStore
    fetcher: Fetcher
    workers: WorkerPool
    watchlist: Watchlist
    notifiers: Mapping[str, Notifier]
    clock: Callable[[], datetime]
    rng: random.Random = field(default_factory=random.Random)
    retired: list[asyncio.Task[None]] = field(default_factory=list)  # parts closing after reload


def user_agent() -> str:
    """How newswatch introduces itself to feed servers and destinations: the fetcher's
    own default, so there is one."""
    return DEFAULT_USER_AGENT


async def prune(rt: Runtime) -> PruneReport:
    """Drop article text older than ``retention``, keeping the identities dedup needs."""
    now = rt.clock()
    report = await rt.store.call(Store.prune, now - rt.settings.retention, now)
    if report.alerts or report.tombstoned or report.forgotten:
        log.info(
            "database pruned alerts=%d articles=%d tombstones=%d",
            report.alerts,
            report.tombstoned,
            report.forgotten,
        )
    return report


def fetcher_for(
    settings: Settings, clock: Callable[[], datetime], moved: Mapping[str, str] | None = None
) -> Fetcher:
    """The fetcher for ``settings``: ``poll.user_agent`` (else newswatch's own) and each
    feed's ``headers``, also under the URL a permanent redirect moved it to (``moved``)."""
    poll = settings.poll
    return Fetcher(
        timeout=poll.timeout.total_seconds(),
        max_bytes=poll.max_bytes,
        concurrency=poll.concurrency,
        user_agent=poll.user_agent or user_agent(),
        clock=clock,
        feed_headers=_feed_headers(settings, moved or {}),
    )


def _feed_headers(settings: Settings, moved: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Headers by URL; a feed moved to another origin does not take them along."""
    found: dict[str, dict[str, str]] = {}
    for feed in settings.active_feeds:
        if feed.headers:
            found[feed.url] = feed.plain_headers()
            current = moved.get(feed.url)
            if current is not None and _origin(current) == _origin(feed.url):
                found[current] = found[feed.url]
    return found


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


async def _moved(store: AsyncStore, settings: Settings) -> dict[str, str]:
    """The current URL of each feed with headers whose stored URL differs from its own."""
    states = [await store.call(Store.feed_state, f.url) for f in settings.feeds if f.headers]
    return {s.url: s.current_url for s in states if s.current_url != s.url}


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    stdout: TextIO | None = None,
    workers: WorkerPool | None = None,
) -> AsyncIterator[Runtime]:
    """Open the store, the fetcher, the worker pool and the notifiers; close them after."""
    store = await AsyncStore(settings.database).open()
    await store.call(Store.ensure_feeds, [(f.url, f.name) for f in settings.feeds])
    rt = Runtime(
        settings=settings,
        store=store,
        fetcher=fetcher_for(settings, clock, await _moved(store, settings)),
        workers=workers or WorkerPool(),
        watchlist=compile_watchlist(settings),
        notifiers=build_notifiers(settings.destinations, user_agent=user_agent(), stdout=stdout),
        clock=clock,
    )
    try:
        yield rt
    finally:
        for task in rt.retired:
            task.cancel()
        await asyncio.gather(*rt.retired, return_exceptions=True)
        await _close(rt.fetcher, rt.notifiers)
        if workers is None:
            rt.workers.close()
        await store.close()


async def reconfigure(rt: Runtime, settings: Settings, *, stdout: TextIO | None = None) -> None:
    """Swap a new configuration into a running runtime. The parts it replaces are closed
    once work in flight with them has had time to finish."""
    changed = settings.poll != rt.settings.poll or _headers(settings) != _headers(rt.settings)
    old_fetcher = rt.fetcher if changed else None
    old_notifiers = rt.notifiers
    grace = rt.settings.poll.timeout.total_seconds() + 5.0
    await rt.store.call(Store.ensure_feeds, [(f.url, f.name) for f in settings.feeds])
    rt.watchlist = compile_watchlist(settings)
    rt.notifiers = build_notifiers(settings.destinations, user_agent=user_agent(), stdout=stdout)
    if old_fetcher is not None:
        rt.fetcher = fetcher_for(settings, rt.clock, await _moved(rt.store, settings))
    rt.settings = settings
    rt.retired.append(asyncio.create_task(_retire(old_fetcher, old_notifiers, grace)))


def _headers(settings: Settings) -> dict[str, dict[str, str]]:
    return {feed.url: feed.plain_headers() for feed in settings.feeds if feed.headers}


async def _retire(fetcher: Fetcher | None, notifiers: Mapping[str, Notifier], grace: float) -> None:
    try:
        await asyncio.sleep(grace)
    finally:
        await _close(fetcher, notifiers)


async def _close(fetcher: Fetcher | None, notifiers: Mapping[str, Notifier]) -> None:
    if fetcher is not None:
        await fetcher.aclose()
    for notifier in notifiers.values():
        try:
            await notifier.aclose()
        except Exception:
            log.exception("closing notifier failed destination=%s", notifier.name)
