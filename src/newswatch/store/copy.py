"""``copy_database``: move an SQLite database into an empty PostgreSQL one (``newswatch db
copy``), keeping everything — feeds' state, articles with their entries and tombstones,
stories and their index, alerts, pending and past deliveries, notices, destinations'
state — under the same ids, so alert ids, story numbers and Idempotency-Keys stay valid.

Rows go table by table in reference order inside one PostgreSQL transaction (all or
nothing), a few thousand at a time; then each identity continues after the largest id
copied. Instances are not copied: they are the processes of the old database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from newswatch.config import PostgresUrl
from newswatch.errors import StoreError
from newswatch.store.postgres import PostgresStore
from newswatch.store.sqlite import SQLiteStore

# In reference order. SQLite's implicit rowid is a column on PostgreSQL where it orders
# rows (alerts, entries); other tables' ids are their rowids already.
TABLES = (
    "feeds",
    "stories",
    "articles",
    "entries",
    "notices",
    "alerts",
    "deliveries",
    "destination_state",
    "destination_sends",
    "story_index",
    "story_keys",
)
_ROWID = {"alerts", "entries"}
_IDENTITIES = {
    "feeds": "id",
    "stories": "id",
    "articles": "id",
    "notices": "id",
    "deliveries": "id",
    "alerts": "rowid",
    "entries": "rowid",
}
_CHUNK = 5000


def copy_database(src: Path, dst: PostgresUrl) -> dict[str, int]:
    """Copy the SQLite database ``src`` (migrated first, if it is old) into the
    PostgreSQL database ``dst``, which must hold no feed yet; how many rows of each
    table were copied."""
    if not src.exists():
        raise StoreError(f"no database at {src}")
    with SQLiteStore(src) as source, PostgresStore(dst.secret) as target:
        return _copy(source, target)


def _copy(src: SQLiteStore, dst: PostgresStore) -> dict[str, int]:
    if dst.one("SELECT id FROM feeds LIMIT 1") is not None:
        raise StoreError(f"database {dst.shown} is not empty: copy only into a new database")
    copied: dict[str, int] = {}
    with dst.write():
        for table in TABLES:
            copied[table] = 0
            for columns, rows in _chunks(src, table):
                marks = ", ".join("?" for _ in columns)
                dst.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
                copied[table] += len(rows)
        for table, column in _IDENTITIES.items():
            dst.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
            )
    return copied


def _chunks(src: SQLiteStore, table: str) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    """The rows of ``table``, a chunk at a time, with their column names."""
    rowid = "rowid, " if table in _ROWID else ""
    cursor = src.db.conn.execute(f"SELECT {rowid}* FROM {table}")
    columns = [d[0] for d in cursor.description]
    while rows := cursor.fetchmany(_CHUNK):
        yield columns, [tuple(r) for r in rows]
