"""SQLite state: feed state, articles and their identities, stories, and the alert outbox.

One ``Store`` owns one connection and is used from one thread (``AsyncStore`` gives the
asyncio daemon a dedicated thread for it). Every write is a ``BEGIN IMMEDIATE`` transaction:
deferred transactions fail under concurrent writers (NOTES.md). The store decides what is
new; an article and the alerts it causes are committed together (the outbox pattern).

The package is one class split by concern into a chain of layers, each able to call those
below it: ``base`` (connection, ``write()``) <- ``feeds`` <- ``stories`` <- ``articles`` <-
``outbox`` <- ``Store``. ``schema`` holds the migrations and row converters, ``values`` the
frozen values callers pass and receive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from newswatch.errors import StoreError
from newswatch.store.outbox import _OutboxStore
from newswatch.store.schema import FEED_NAME, NOTICE_KEY_PREFIX, from_iso, iso, migrations
from newswatch.store.values import (
    FeedUpdate,
    HealthNotice,
    PendingAlert,
    PollRecord,
    PruneReport,
    StoredArticle,
    StoryRules,
)

__all__ = [
    "FEED_NAME",
    "NOTICE_KEY_PREFIX",
    "AsyncStore",
    "FeedUpdate",
    "HealthNotice",
    "PendingAlert",
    "PollRecord",
    "PruneReport",
    "Store",
    "StoredArticle",
    "StoryRules",
    "from_iso",
    "iso",
    "migrations",
]

P = ParamSpec("P")
T = TypeVar("T")


class Store(_OutboxStore):
    """The database. Not thread-safe: one thread uses one Store."""


class AsyncStore:
    """A Store owned by one dedicated thread, for use from asyncio."""

    def __init__(self, path: Path) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswatch-db")
        self._path = path
        self._store: Store | None = None

    async def open(self) -> AsyncStore:
        """Open the database in the store thread."""
        self._store = await self._run(Store, self._path)
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
        return await self._run(method, store, *args, **kwargs)

    async def close(self) -> None:
        """Close the database and stop the thread."""
        if self._store is not None:
            await self._run(self._store.close)
            self._store = None
        self._executor.shutdown(wait=True)
