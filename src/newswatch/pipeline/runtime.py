"""The runtime every sequencer works with, built from one configuration: the store, the
fetcher, the worker pool, the compiled watchlist and the notifiers, and this process's
``Presence`` among the others that share the database; how a reload swaps a new
configuration in. Plus the one maintenance step, ``prune``.

Nothing here reads the clock or the environment: ``clock`` and the settings come from
the caller (``app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO
from urllib.parse import urlsplit

from newswatch import cluster
from newswatch.config import Settings
from newswatch.fetch import DEFAULT_USER_AGENT, Fetcher
from newswatch.match import Watchlist, compile_watchlist
from newswatch.notify import Notifier, build_notifiers
from newswatch.pipeline.analysis import WatchSource
from newswatch.pipeline.workers import WorkerPool
from newswatch.store import AsyncStore, Instance, PruneReport, Store

log = logging.getLogger(__name__)

HEARTBEAT = 5.0  # seconds between renewals of this instance and of the claims it holds


def claim_lease(settings: Settings) -> timedelta:
    """How long a claim (and an instance's row) holds without renewal: ``poll.lease``
    (by default 1m), which exceeds ``poll.timeout``. Renewed every ``HEARTBEAT`` while
    the work runs (a send may take its destination's whole timeout), so only a process
    that died loses its claims; the others take its feeds over once its last renewal is
    older."""
    return settings.poll.claim_lease


def this_process(now: datetime) -> Instance:
    """This process as an instance: a random id (pids are reused), its pid and host."""
    return Instance(uuid.uuid4().hex[:16], os.getpid(), socket.gethostname(), now)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (one we may not signal does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@dataclass
class Presence:
    """This process among the newswatch instances at work on the database: registered at
    start, renewed (with every claim it holds) every ``HEARTBEAT`` seconds, retired at the
    end (its claims released). It says once when it meets another instance, and ends the
    claims of one on this host whose process is gone, so its work is taken over at once."""

    store: AsyncStore
    me: Instance
    lease: timedelta
    clock: Callable[[], datetime]
    alive: Callable[[int], bool] = pid_alive
    on_takeover: Callable[[], None] | None = None  # after claims of a dead one were ended
    met: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register, look at the others, and renew from now on."""
        now = self.clock()
        others = await self.store.call(Store.register_instance, self.me, now, now + self.lease)
        await self.look(others)
        self.task = asyncio.create_task(self._renew(), name="presence")

    async def beat(self) -> None:
        """Renew this instance and its claims once; look at the others."""
        now = self.clock()
        await self.look(await self.store.call(Store.renew_instance, self.me, now, now + self.lease))

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self.beat()
            except Exception:
                log.exception("renewing this instance's claims failed; trying again shortly")

    async def look(self, others: list[Instance]) -> None:
        """Say once per instance that another newswatch works on the database (``others``
        ran at some time since the last look); retire the running ones on this host whose
        process is gone (killed), ending their claims."""
        now = self.clock()
        dead = [
            o
            for o in others
            if o.host == self.me.host
            and (o.expires_at is None or o.expires_at > now)
            and not self.alive(o.pid)
        ]
        if dead:
            ended = await self.store.call(
                Store.retire_instances, [o.id for o in dead], self.clock()
            )
            for other in dead:
                log.warning(
                    "another newswatch on this database is gone pid=%d host=%s: "
                    "taking its work over (claims ended: %d)",
                    other.pid,
                    other.host,
                    ended,
                )
            if self.on_takeover is not None:
                self.on_takeover()
        for other in others:
            if other in dead or other.id in self.met:
                continue
            self.met.add(other.id)
            log.warning(
                "another newswatch works on this database pid=%d host=%s since=%s: "
                "each feed is polled and each message sent by one of them only",
                other.pid,
                other.host,
                f"{other.started_at:%Y-%m-%dT%H:%M:%SZ}" if other.started_at else "-",
            )

    async def stop(self) -> None:
        """Stop renewing; release every claim this instance holds."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.store.call(Store.retire_instances, [self.me.id], self.clock())


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
    presence: Presence
    watches: WatchSource  # what workers compile and match with (``watchlist``'s source)
    # Polls between the start of their fetch and their commit, at most ``poll.concurrency``:
    # a fetched document waits for a worker holding its slot, so when parsing is the
    # bottleneck no more documents are fetched than can be held (memory stays bounded).
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(32))
    rng: random.Random = field(default_factory=random.Random)
    retired: list[asyncio.Task[None]] = field(default_factory=list)  # parts closing after reload

    @property
    def me(self) -> Instance:
        """This process, as its claims name it."""
        return self.presence.me

    @property
    def lease(self) -> timedelta:
        """How long a claim holds without renewal."""
        return self.presence.lease


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


REKEY_BATCH = 500  # indexed articles keyed again per worker job


async def rekey_stories(rt: Runtime) -> int:
    """Key again the articles of the story window whose LSH keys another version of
    ``cluster`` made (after an upgrade that changed them), from their stored text, so that
    a copy arriving afterwards still finds their story. Once per database: the rows keep
    their version. How many were keyed."""
    if not rt.settings.stories.enabled:
        return 0
    done = 0
    while stale := await rt.store.call(Store.stale_story_keys, cluster.KEY_FORMAT, REKEY_BATCH):
        keys = await rt.workers.run("story index", cluster.story_keys, [a for _, a in stale])
        made = dict(zip((article_id for article_id, _ in stale), keys, strict=True))
        done += await rt.store.call(Store.rekey_stories, cluster.KEY_FORMAT, made)
        if len(stale) < REKEY_BATCH:
            break
    if done:
        log.info("story index keyed again articles=%d version=%d", done, cluster.KEY_FORMAT)
    return done


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
    presence = Presence(store, this_process(clock()), claim_lease(settings), clock)
    await presence.start()
    rt = Runtime(
        settings=settings,
        store=store,
        fetcher=fetcher_for(settings, clock, await _moved(store, settings)),
        workers=workers or WorkerPool(),
        watchlist=compile_watchlist(settings),
        notifiers=build_notifiers(settings.destinations, user_agent=user_agent(), stdout=stdout),
        clock=clock,
        presence=presence,
        watches=WatchSource.of(settings),
        in_flight=asyncio.Semaphore(settings.poll.concurrency),
    )
    try:
        await rekey_stories(rt)
        yield rt
    finally:
        await presence.stop()
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
    rt.presence.lease = claim_lease(settings)
    rt.watchlist = compile_watchlist(settings)
    rt.watches = WatchSource.of(settings)
    if settings.poll.concurrency != rt.settings.poll.concurrency:
        rt.in_flight = asyncio.Semaphore(settings.poll.concurrency)
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
