"""Paths in the configuration: where a relative one lives, and whether it can be used.

Relative paths resolve against the configuration file's folder (the database, under
systemd, against ``$STATE_DIRECTORY``), so a config means the same from any working folder.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from pathlib import Path

from newswatch.config.checks import ValueProblem
from newswatch.config.fields import PostgresUrl
from newswatch.config.schema import EmailDestination, Settings

__all__ = ["ca_file_problems", "resolve_database", "resolve_paths"]


def resolve_database(
    database: Path | PostgresUrl, source: Path, env: Mapping[str, str]
) -> Path | PostgresUrl:
    """Where a relative ``database`` lives: under ``$STATE_DIRECTORY`` (the first of its
    ':'-separated folders) when systemd sets it, else next to the configuration file. A
    PostgreSQL URL is not a path: it stays as it is."""
    if isinstance(database, PostgresUrl) or database.is_absolute():
        return database
    state = next((part for part in env.get("STATE_DIRECTORY", "").split(":") if part), "")
    return (Path(state) if state else source.parent) / database


def resolve_paths(settings: Settings, source: Path, env: Mapping[str, str]) -> Settings:
    """``settings`` read from ``source``, with every relative path made absolute."""
    destinations = tuple(
        dest.model_copy(update={"tls_ca_file": source.parent / dest.tls_ca_file})
        if isinstance(dest, EmailDestination) and dest.tls_ca_file is not None
        else dest
        for dest in settings.destinations
    )
    database = resolve_database(settings.database, source, env)
    opml = tuple(source.parent / file for file in settings.opml)
    update = {
        "source": source,
        "database": database,
        "destinations": destinations,
        "opml": opml,
    }
    return settings.model_copy(update=update)


def ca_file_problems(settings: Settings) -> Iterator[ValueProblem]:
    """Every email destination's ``tls_ca_file`` that cannot be loaded as CA certificates."""
    for index, dest in enumerate(settings.destinations):
        if not isinstance(dest, EmailDestination) or dest.tls_ca_file is None:
            continue
        try:
            ssl.create_default_context(cafile=str(dest.tls_ca_file))
        except (OSError, ssl.SSLError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            yield ValueProblem(
                ("destinations", index, "tls_ca_file"),
                f"cannot load CA certificates from {dest.tls_ca_file}: {reason} "
                "(give a PEM file of the CA that signed the server's certificate)",
            )
