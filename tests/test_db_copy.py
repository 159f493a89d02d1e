"""``newswatch db copy SRC DST``: an SQLite database moved into PostgreSQL keeps its
history, stories and pending alerts — and newswatch on the copy goes on where it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from support.cli import newswatch
from support.feeds import Item, rss
from support.postgres import PASSWORD
from support.shared import world

pytestmark = pytest.mark.slow


def test_a_copied_database_keeps_history_and_sends_only_what_was_pending(
    tmp_path: Path, pg_url: str
) -> None:
    """After the copy, run --once on PostgreSQL sends the one delivery left pending (under
    its old Idempotency-Key), nothing already sent, and a new item under a new id."""
    with world(tmp_path, feeds=2, items=2) as w:
        assert newswatch(w.config, "run", "--once").returncode == 0
        sent = {r.header("Idempotency-Key") for r in w.hook.requests}
        with sqlite3.connect(tmp_path / "state.db") as conn:
            conn.execute("UPDATE deliveries SET state = 'pending' WHERE id = 1")
        copied = newswatch(None, "db", "copy", str(tmp_path / "state.db"), pg_url)
        assert copied.returncode == 0, copied.stderr
        assert "articles 4" in copied.stdout and "deliveries 4" in copied.stdout
        assert PASSWORD not in copied.stdout + copied.stderr
        w.config.write_text(
            w.config.read_text().replace("database: state.db", f"database: {pg_url}")
        )
        w.feeds.add(
            w.paths[0], rss("Feed 0", [Item("late", "Lukashenko late", "https://l.example/1")])
        )
        assert newswatch(w.config, "run", "--once").returncode == 0
        keys = [r.header("Idempotency-Key") for r in w.hook.requests]
    assert len(keys) == 6
    assert keys[4] in sent and keys[5] not in sent


def test_copying_into_a_database_that_is_not_empty_is_refused(tmp_path: Path, pg_url: str) -> None:
    """A second copy into the same database is an error (exit 1), and changes nothing."""
    with world(tmp_path, feeds=1, items=1) as w:
        assert newswatch(w.config, "run", "--once").returncode == 0
    source = str(tmp_path / "state.db")
    assert newswatch(None, "db", "copy", source, pg_url).returncode == 0
    again = newswatch(None, "db", "copy", source, pg_url)
    assert again.returncode == 1 and "is not empty" in again.stderr
    assert PASSWORD not in again.stderr


def test_db_copy_wants_a_file_and_a_postgresql_url(tmp_path: Path) -> None:
    """The wrong way round is a usage error (exit 2)."""
    wrong = newswatch(None, "db", "copy", "postgresql://nw@db/nw", str(tmp_path / "x.db"))
    assert wrong.returncode == 2 and "DST a postgresql:// URL" in wrong.stderr
