"""The shared base of the store: ``Db``, what every table group and unit of work needs of
an engine (a write transaction, statements with ``?`` or ``:name`` parameters, reads as
dicts), and ``Base``, the SQLite one: one connection, its pragmas and migrations, and the
``BEGIN IMMEDIATE`` write transaction. The table-group modules are siblings over ``Db``;
none of them imports another. (``postgres.PgBase`` is the PostgreSQL ``Db``.)
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, Self, TypeVar

import sqlite_utils

from newswatch.errors import StoreError
from newswatch.store.schema import migrations

Row = dict[str, Any]  # a row as read: column name -> value
Params = Sequence[Any] | dict[str, Any]  # ``?`` (a sequence) or ``:name`` (a dict) parameters
P = ParamSpec("P")
T = TypeVar("T")


IN_CHUNK = 500  # values in one ``IN (...)`` list
WAL_CHECKPOINT_PAGES = 16_000  # 4 KiB pages: the WAL is checkpointed at ~64 MB
WAL_KEEP_BYTES = 16 * 2**20  # ...and cut back to this after a checkpoint


def in_chunks(values: Sequence[Any]) -> Iterator[tuple[list[Any], str]]:
    """``values`` in slices for ``IN (...)`` lists, each with its ``?, ?, …`` marks."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = list(values[start : start + IN_CHUNK])
        yield chunk, ", ".join("?" for _ in chunk)


class Result(Protocol):
    """What a statement tells after it ran."""

    @property
    def rowcount(self) -> int: ...


class Db(Protocol):
    """An engine as the table groups use it. Statements are written once, in the SQL both
    engines accept; each engine adapts the parameter style."""

    def write(self) -> AbstractContextManager[None]:
        """A write transaction: committed on success, rolled back on error."""
        ...

    def execute(self, sql: str, params: Params = ()) -> Result:
        """Run one statement."""
        ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``."""

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query, read at once."""
        ...

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, if any."""
        ...

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT into a table with an ``id`` key; the id of the new row."""
        ...

    def lock_stories(self) -> None:
        """Inside a write: hold the story decision (which article is new, which story it
        joins) until the commit, so two writers never decide it from the same snapshot."""

    def lock_rows(self, table: str, where: str, params: Params = ()) -> None:
        """Inside a write, before changing several rows of ``table`` (those ``where``
        selects): lock them in the order of their ids. Every write that changes several
        rows of one table takes them in that one order, so two writers never each hold a
        row the other waits for (a deadlock)."""

    def unit(self, work: Callable[Concatenate[Db, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work(self, …)``, a unit of work (one write and what it reads): where the
        engine may abort a write to break a deadlock, run again, whole."""
        ...


def refuse_old(shown: object, pending: Sequence[str], *, elsewhere: str = "") -> None:
    """For a command that only reads: refuse a database it would have to create or
    migrate first (SPEC §2), saying what to run instead (``elsewhere``: another way to
    fill an empty one)."""
    if not pending:
        return
    if any(name.startswith("m001") for name in pending):
        raise StoreError(
            f"database {shown} has no newswatch tables yet: `newswatch run` (or `run "
            f"--once`) creates them{elsewhere}"
        )
    raise StoreError(
        f"database {shown} was made by an older newswatch (migrations pending: "
        f"{', '.join(pending)}): `newswatch run` (or `run --once`) upgrades it"
    )


class Base:
    """One connection, opened and migrated. Not thread-safe: one thread uses one Base.
    With ``migrate=False`` (the commands that only read) a database that is not up to
    date is refused instead."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0, migrate: bool = True) -> None:
        self.path = path
        self._writing = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=busy_timeout)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        self.db = sqlite_utils.Database(conn)
        with self.db.ensure_autocommit_on():
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # A poll of new articles adds its story keys in random places of the key
            # index, so each commit dirties about a thousand pages. Checkpointing once
            # the WAL holds 64 MB (not SQLite's 4 MB) copies a page rewritten by many
            # commits into the database once, not once per commit: 500 polls of 20 new
            # articles, one commit each, 10.9 s of CPU and 14.4 s wall before, 8.6 s
            # and 9.7 s after (the README's Performance section has the cold pass's). The
            # WAL is cut back to 16 MB after a checkpoint. (An 8 MB page cache saved
            # another 1.5 s there but cost the daemon 9 MiB.)
            self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            self.db.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")
            # Off while migrating: a migration may rebuild a table (SQLite's ALTER
            # procedure), which must not cascade; checked before the commit instead.
            self.db.execute("PRAGMA foreign_keys=OFF")
        if not migrate:
            self._refuse_old()
        self._migrate()
        with self.db.ensure_autocommit_on():
            self.db.execute("PRAGMA foreign_keys=ON")

    def _migrate(self) -> None:
        """Apply the pending migrations in one write; refuse to commit broken references."""
        if not migrations.pending(self.db):
            return
        with self.write():
            migrations.apply(self.db)
            broken = self.db.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise StoreError(f"database {self.path}: migration broke references: {broken}")

    def _refuse_old(self) -> None:
        """Refuse (and close) a database with migrations pending."""
        try:
            refuse_old(self.path, [m.name for m in migrations.pending(self.db)])
        except StoreError:
            self.db.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """One transaction for several writes (``AsyncStore`` groups the polls waiting
        for the store thread at the same moment): each ``write()`` inside joins it, and
        they commit together — fewer commits write far fewer pages, since the LSH key
        index pages one poll dirties are mostly the next one's. If anything inside
        fails, all of it is rolled back (the caller then runs the writes one by one)."""
        with self.write():  # the writes inside join it
            yield

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error.
        Immediate, because a deferred one fails under concurrent writers (NOTES.md). A
        write inside a write (or a ``group()``) is part of it."""
        if self._writing:
            yield
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path} is busy or unwritable: {exc}") from exc
        self._writing = True
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        else:
            self.db.commit()
        finally:
            self._writing = False

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one statement."""
        cursor: sqlite3.Cursor = self.db.execute(sql, params)  # commits a lone write
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``."""
        self.db.conn.executemany(sql, rows)

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT; the rowid of the new row."""
        rowid = self.execute(sql, params).lastrowid
        assert rowid is not None
        return int(rowid)

    def lock_stories(self) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already makes one writer at a time."""

    def lock_rows(self, table: str, where: str, params: Params = ()) -> None:
        """Nothing to do: a ``BEGIN IMMEDIATE`` write holds the whole database."""

    def unit(self, work: Callable[Concatenate[Db, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work`` once: SQLite never aborts a write for a deadlock (one writer at a
        time; a busy database is waited for)."""
        return work(self, *args, **kwargs)

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query, read at once (so the caller may write while it iterates)."""
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, if any."""
        cursor = self.db.conn.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip((d[0] for d in cursor.description), row, strict=True))
