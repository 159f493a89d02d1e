"""``PostgresStore``: the :class:`~newswatch.store.protocol.Store` on a PostgreSQL database
that several newswatch instances share (SPEC §9).

``PgBase`` is the PostgreSQL :class:`~newswatch.store.base.Db` under the same
``StoreFront`` as SQLite's, so both engines run the table groups' very statements: it
rewrites their ``?`` and ``:name`` parameters to psycopg's, and ``group_concat`` to
``string_agg``. Connections come from a psycopg pool (autocommit; ``write()`` holds one
for its transaction, in READ COMMITTED). What makes sharing safe:

- claims (feeds, messages) are conditional ``UPDATE … WHERE unclaimed-or-expired …
  RETURNING``: PostgreSQL locks the row and re-checks the condition after a concurrent
  claim commits, so of two instances claiming at once exactly one gets the row;
- ``lock_stories`` takes a transaction-level advisory lock at the start of every
  ``commit_poll``, so what is new and which story it joins are decided by one instance
  at a time, each seeing what the one before committed (as ``BEGIN IMMEDIATE`` does on
  SQLite);
- a write that changes several rows of a table locks them first in id order
  (``lock_rows``), so two instances' writes never wait for each other in a circle; and
  should the server still abort one to break a deadlock, the unit of work runs again,
  whole (``unit``).

This module is imported only when ``database:`` is a PostgreSQL URL; no psycopg object
leaves it.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from newswatch.errors import StoreError
from newswatch.redact import redact_dsn
from newswatch.store.base import Db, Params, Row, refuse_old
from newswatch.store.front import StoreFront
from newswatch.store.pg_schema import migrate as _migrate
from newswatch.store.pg_schema import pending

log = logging.getLogger(__name__)
_COPY_HINT = ", or `newswatch db copy FILE URL` fills it from an SQLite database"
P = ParamSpec("P")
T = TypeVar("T")

# What the server does to one of the writes in a deadlock (or, in stricter isolation
# than ours, a serialization conflict): aborted, it may simply run again.
_RETRIABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)

# The advisory lock (transaction-level) that makes the story decision one at a time.
STORY_LOCK = 0x73746F72  # "stor"

# A string literal (skipped), a ``?``, a ``:name`` (not a ``::`` cast) or a bare ``%``.
_TOKEN = re.compile(r"'[^']*'|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


@lru_cache(maxsize=1024)
def to_pg(sql: str) -> str:
    """A statement of the table groups in psycopg's parameter style."""

    def sub(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("'"):
            return token.replace("%", "%%")
        if token in ("?", "%"):
            return {"?": "%s", "%": "%%"}[token]
        return f"%({match.group(1)})s"

    return _TOKEN.sub(sub, sql).replace("group_concat(", "string_agg(")


@dataclass(frozen=True, slots=True)
class _Ran:
    """What a statement told after it ran (its cursor is gone by then)."""

    rowcount: int


class PgBase:
    """A pool of connections to one PostgreSQL database, migrated at open (with
    ``migrate=False``, for the commands that only read, a database without newswatch's
    tables, or with migrations pending, is refused: nothing is created). Safe to share
    between threads: each ``write()`` holds a connection of its own. A unit of work the
    server aborts to break a deadlock runs again, up to ``deadlock_retries`` times."""

    def __init__(
        self,
        url: str,
        *,
        max_size: int = 4,
        timeout: float = 30.0,
        migrate: bool = True,
        deadlock_retries: int = 3,
    ) -> None:
        self.shown = redact_dsn(url)
        self._secret = url
        self.deadlock_retries = deadlock_retries
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=int(timeout)) as conn:
                if migrate:
                    _migrate(conn)
                else:
                    refuse_old(self.shown, pending(conn), elsewhere=_COPY_HINT)
            self.pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max_size,
                timeout=timeout,
                kwargs={"autocommit": True, "row_factory": dict_row},
                open=False,
            )
            self.pool.open(wait=True, timeout=timeout)
        except (psycopg.Error, OSError) as exc:
            raise StoreError(f"cannot open database {self.shown}: {self._mask(exc)}") from exc
        self._local = threading.local()

    def _mask(self, exc: BaseException) -> str:
        """The error's message, never with the URL's password."""
        text = str(exc).strip()
        try:
            password = psycopg.conninfo.conninfo_to_dict(self._secret).get("password")
        except psycopg.Error:
            password = None
        return text.replace(str(password), "***") if password else text

    def close(self) -> None:
        """Close the pool."""
        self.pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """A transaction on a connection of this thread's own: committed on success, rolled
        back on error. A write inside a write is part of it."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._errors(), self.pool.connection() as conn, conn.transaction():
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise StoreError(f"database {self.shown}: {self._mask(exc)}") from exc

    @contextlib.contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Row]]:
        """The connection of the write in progress, else one from the pool."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with self._errors():
                yield conn
            return
        with self._errors(), self.pool.connection() as fresh:
            yield fresh  # type: ignore[misc]  # the pool's row factory is dict_row

    def execute(self, sql: str, params: Params = ()) -> _Ran:
        """Run one statement."""
        with self._conn() as conn:
            return _Ran(conn.execute(to_pg(sql), params or None).rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``."""
        rows = list(rows)
        if not rows:
            return
        with self._conn() as conn, conn.cursor() as cursor:
            cursor.executemany(to_pg(sql), rows)

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query, read at once."""
        with self._conn() as conn:
            return conn.execute(to_pg(sql), params or None).fetchall()

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, if any."""
        with self._conn() as conn:
            return conn.execute(to_pg(sql), params or None).fetchone()

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT into a table keyed by ``id``; the new row's id."""
        row = self.one(f"{sql} RETURNING id", params)
        assert row is not None
        return int(row["id"])

    def lock_stories(self) -> None:
        """Inside a write: wait for the story lock, held until the commit."""
        self.execute("SELECT pg_advisory_xact_lock(?)", [STORY_LOCK])

    def lock_rows(self, table: str, where: str, params: Params = ()) -> None:
        """Inside a write: lock the rows of ``table`` that ``where`` selects, in id order
        (``FOR UPDATE`` locks rows in the order the query returns them)."""
        self.execute(f"SELECT id FROM {table} WHERE {where} ORDER BY id FOR UPDATE", params)

    def unit(self, work: Callable[Concatenate[Db, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work(self, …)``; when the server aborted its write to break a deadlock,
        run it again, whole, after a short random pause (inside another write it is part
        of that one, which is retried instead)."""
        attempt = 0
        while True:
            try:
                return work(self, *args, **kwargs)
            except StoreError as exc:
                retriable = isinstance(exc.__cause__, _RETRIABLE)
                if not retriable or attempt >= self.deadlock_retries or self._in_write():
                    raise
            attempt += 1
            log.info("database write aborted by a deadlock: retrying attempt=%d", attempt)
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 (jitter, not secrets)

    def _in_write(self) -> bool:
        return getattr(self._local, "conn", None) is not None


class PostgresStore(StoreFront, PgBase):
    """The shared database. Thread-safe (a pool of connections)."""
