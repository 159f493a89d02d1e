"""Persistence: feed state, articles and their identities, stories, health notices and the
alert outbox, behind one typed protocol, :class:`Store`.

``protocol`` states the surface ``pipeline`` and ``app`` use; ``sqlite`` implements it on
one SQLite file, ``postgres`` on a PostgreSQL database several instances share (both are
the engine's ``Db`` under the one ``front``; ``pg_schema`` holds PostgreSQL's migrations).
Its table groups are sibling modules over the shared ``base`` (the
connection and the ``BEGIN IMMEDIATE`` ``write()``): ``feeds``, ``articles``, ``stories``,
``outbox`` (alerts, deliveries, destination state), ``notices`` and ``claims`` (the
instances sharing the database, and their claims on feeds and deliveries); ``units`` holds the units
of work that span them (``commit_poll``, ``commit_fetch``, ``prune``). ``schema`` holds the
migrations and row converters, ``values`` the frozen values callers pass and receive.

The store decides what is new; one poll is one write transaction, in which an article and
the alerts it causes are committed together (the outbox pattern).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from newswatch.config import PostgresUrl
from newswatch.errors import StoreError
from newswatch.store.protocol import Store
from newswatch.store.schema import FEED_NAME, from_iso, iso, migrations
from newswatch.store.sqlite import SQLiteStore
from newswatch.store.values import (
    FeedClaim,
    FeedUpdate,
    HealthChange,
    HealthNotice,
    HealthRules,
    Instance,
    Pace,
    PendingAlert,
    PollRecord,
    PruneReport,
    StoredArticle,
    StoryCopy,
    StoryRules,
    UnitClaim,
)

__all__ = [
    "FEED_NAME",
    "AsyncStore",
    "FeedClaim",
    "FeedUpdate",
    "HealthChange",
    "HealthNotice",
    "HealthRules",
    "Instance",
    "Pace",
    "PendingAlert",
    "PollRecord",
    "PruneReport",
    "SQLiteStore",
    "Store",
    "StoredArticle",
    "StoryCopy",
    "StoryRules",
    "UnitClaim",
    "from_iso",
    "iso",
    "migrations",
    "open_store",
]

P = ParamSpec("P")
T = TypeVar("T")


def open_store(database: Path | PostgresUrl, *, migrate: bool = True) -> Store:
    """The store ``database:`` names: an SQLite file, or a PostgreSQL database (psycopg
    is imported only then), migrated to this version's schema. With ``migrate=False``
    (for the commands that only read) nothing is created or migrated: a database without
    newswatch's tables, or an older one, is refused with a StoreError that says what to
    run. (A missing SQLite file is the caller's to refuse: opening creates it.)"""
    if isinstance(database, PostgresUrl):
        from newswatch.store.postgres import PostgresStore

        return PostgresStore(database.secret, migrate=migrate)
    return SQLiteStore(database, migrate=migrate)


# The writes of polls: those waiting for the store thread at the same moment commit
# together (each still all or nothing), where the engine can (SQLite's ``group``).
_GROUPED = frozenset({"commit_poll", "commit_fetch"})


class AsyncStore:
    """A store owned by one dedicated thread, for use from asyncio (an SQLite connection
    belongs to the thread that opened it).

    Polls' writes that queue up while the thread is busy run as one group: one
    transaction (``Base.group``), results handed back after its commit, so nobody acts
    on a write before it is durable. If one of them fails, the group is rolled back and
    each write runs again on its own: a failing poll costs only itself."""

    def __init__(self, database: Path | PostgresUrl) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswatch-db")
        self._path = database
        self._store: Store | None = None
        self.trips = 0  # calls made into the store thread (each one a hop: counted, measured)
        self.groups: list[int] = []  # size of each group of writes committed (measured)
        self._lock = threading.Lock()
        self._waiting: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []

    async def open(self) -> AsyncStore:
        """Open the database in the store thread."""
        self._store = await self._run(open_store, self._path)
        return self

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def call(
        self, method: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``method(store, *args, **kwargs)`` in the store thread, e.g. ``Store.unseen``;
        typed end to end, so mypy checks every argument that crosses into the thread."""
        store = self._store
        if store is None:
            raise StoreError("store is not open")
        self.trips += 1
        bound = _bound(store, method)
        if getattr(method, "__name__", "") in _GROUPED and hasattr(store, "group"):
            return cast(T, await self._grouped(lambda: bound(*args, **kwargs)))
        return await self._run(bound, *args, **kwargs)

    async def _grouped(self, job: Callable[[], Any]) -> Any:
        """Queue a write for the next group; the first write queued starts the group."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            self._waiting.append((job, future))
            first = len(self._waiting) == 1
        if first:
            loop.run_in_executor(self._executor, self._run_group, loop)
        return await future

    def _run_group(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the store thread: every write queued so far, in one transaction (or, if
        one fails, each in its own)."""
        with self._lock:
            jobs, self._waiting = self._waiting, []
        outcomes: list[tuple[bool, Any]] = []
        if len(jobs) > 1:
            try:
                with cast(Any, self._store).group():
                    outcomes = [(True, job()) for job, _ in jobs]
            except Exception:  # all rolled back: each write again, alone
                outcomes = []
        if not outcomes:
            for job, _ in jobs:
                try:
                    outcomes.append((True, job()))
                except Exception as exc:
                    outcomes.append((False, exc))
        self.groups.append(len(jobs))
        for (_, future), (ok, value) in zip(jobs, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, future, ok, value)

    async def close(self) -> None:
        """Close the database and stop the thread."""
        if self._store is not None:
            await self._run(self._store.close)
            self._store = None
        self._executor.shutdown(wait=True)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _bound(store: Store, method: Callable[Concatenate[Store, P], T]) -> Callable[P, T]:
    """``method`` applied to ``store``. A method of the protocol (``Store.unseen``) is only
    its signature, so the store's own method of that name runs; any other function is
    called with the store as its first argument."""
    name = getattr(method, "__name__", "")
    if getattr(Store, name, None) is method:
        return cast(Callable[P, T], getattr(store, name))

    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return method(store, *args, **kwargs)

    return call
