"""The store's engines for tests: ``engine`` runs a test on SQLite and on PostgreSQL (the
session's server, started only when a PostgreSQL case runs); ``database`` is a fresh
database of that engine, ``new_store`` opens a store on it (call it twice for two
connections, as two instances would have)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from newswatch.config import PostgresUrl
from newswatch.store import Store, open_store

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine under test."""
    return str(request.param)


@pytest.fixture
def database(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | PostgresUrl:
    """A fresh database of ``engine``: an SQLite file, or a new PostgreSQL database."""
    if engine == "sqlite":
        return tmp_path / "nw.db"
    return PostgresUrl(request.getfixturevalue("pg_url"))


@pytest.fixture
def new_store(database: Path | PostgresUrl) -> Iterator[Callable[[], Store]]:
    """Opens stores on ``database``; all of them are closed after the test."""
    opened: list[Store] = []

    def make() -> Store:
        opened.append(open_store(database))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def count(store: Store, table: str) -> int:
    """How many rows ``table`` has (through the store's own connection)."""
    row = store.one(f"SELECT COUNT(*) AS n FROM {table}")  # type: ignore[attr-defined]
    return int(row["n"])
