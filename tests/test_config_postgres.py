"""``database:`` as a PostgreSQL URL: not a path, never shown with its password."""

from __future__ import annotations

from pathlib import Path

from newswatch.config import PostgresUrl, describe
from newswatch.redact import redact_dsn
from support.configs import load, problems


def test_a_postgresql_url_is_a_database_url_not_a_path() -> None:
    """``postgresql://`` and ``postgres://`` select PostgreSQL; anything else is a file."""
    for url in ("postgresql://nw@db.example:5432/newswatch", "postgres://nw@db/nw"):
        assert load(f"database: {url}\n").database == PostgresUrl(url)
    assert isinstance(load("database: state.db\n").database, Path)


def test_the_password_from_a_variable_is_kept_but_never_shown() -> None:
    """A ``${VAR}`` (percent-encoded) in the URL reaches the store; check shows ``***``."""
    settings = load("database: postgresql://nw:${PGPASS}@db/nw\n", {"PGPASS": "s%40cret"})
    assert isinstance(settings.database, PostgresUrl)
    assert settings.database.secret == "postgresql://nw:s%40cret@db/nw"
    shown = describe(settings) + repr(settings.database) + str(settings)
    assert "s%40cret" not in shown and "postgresql://nw:***@db/nw" in shown


def test_a_bad_port_is_a_config_error_without_the_password() -> None:
    """A URL that cannot be parsed is reported at its place, its password not echoed."""
    (problem,) = problems("database: postgresql://nw:hush@db:port/nw\n")
    assert problem.startswith("1:11: database: is not a valid PostgreSQL URL")
    assert "hush" not in problem


def test_a_password_in_the_query_is_masked_too() -> None:
    """``?password=`` is masked like the one before the host."""
    assert redact_dsn("postgresql://db/nw?sslmode=require&password=x") == (
        "postgresql://db/nw?sslmode=require&password=***"
    )
