"""Commands that only read never create or migrate a database (SPEC §2), on either
engine: an empty PostgreSQL database (the session's real server) or SQLite file is
refused with what to run, exit 1, and stays empty; so is one an older newswatch made,
which stays as it was."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import psycopg
import pytest

from newswatch.config import PostgresUrl
from newswatch.store import migrations, open_store
from newswatch.store.pg_schema import MIGRATIONS
from support.cli import newswatch
from support.postgres import PASSWORD
from support.shared import world

READ_ONLY = [["status"], ["alerts"], ["alerts", "--story", "1"], ["replay"]]


def pg_tables(url: str) -> list[str]:
    """The tables of the database's public schema."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return sorted(r[0] for r in rows)


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_read_only_commands_refuse_an_empty_postgres_database(
    tmp_path: Path, pg_url: str, args: list[str]
) -> None:
    """On a database without newswatch's tables: exit 1, a message that names the
    database (password masked) and says to run `newswatch run` or `db copy`; no table
    is created."""
    with world(tmp_path, feeds=1, items=1, database=pg_url) as w:
        result = newswatch(w.config, *args)
    assert result.returncode == 1, result.stderr
    assert "postgresql://newswatch:***@127.0.0.1" in result.stderr
    assert "has no newswatch tables yet: `newswatch run`" in result.stderr
    assert "`newswatch db copy" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert pg_tables(pg_url) == []


def test_status_refuses_a_postgres_database_an_older_newswatch_made(
    tmp_path: Path, pg_url: str
) -> None:
    """A database whose newest migration is not applied is refused (`newswatch run`
    upgrades it), and the migration is still pending afterwards."""
    open_store(PostgresUrl(pg_url)).close()
    newest = MIGRATIONS[-1][0]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM newswatch_migrations WHERE name = %s", [newest])
    with world(tmp_path, feeds=1, items=1, database=pg_url) as w:
        result = newswatch(w.config, "status")
    assert result.returncode == 1
    assert f"was made by an older newswatch (migrations pending: {newest})" in result.stderr
    with psycopg.connect(pg_url) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM newswatch_migrations")]
    assert newest not in names


def test_status_refuses_an_sqlite_file_without_tables_or_an_older_one(tmp_path: Path) -> None:
    """An empty SQLite file has no tables (exit 1, nothing created); one with its newest
    migration pending is refused and left unmigrated."""
    database = tmp_path / "state.db"
    with world(tmp_path, feeds=1, items=1, database=str(database)) as w:
        database.touch()
        empty = newswatch(w.config, "status")
        with contextlib.closing(sqlite3.connect(database)) as conn:
            assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
        database.unlink()
        open_store(database).close()
        newest = migrations._migrations[-1].name
        with contextlib.closing(sqlite3.connect(database)) as conn, conn:
            conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [newest])
        older = newswatch(w.config, "alerts")
        with contextlib.closing(sqlite3.connect(database)) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
    assert empty.returncode == 1
    assert f"database {database} has no newswatch tables yet: `newswatch run`" in empty.stderr
    assert older.returncode == 1
    assert f"older newswatch (migrations pending: {newest})" in older.stderr
    assert newest not in names
