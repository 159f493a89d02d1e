"""Loading configuration text in tests, as if read from conf/w.yaml, and the problems
it reports."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from newswatch.config import Settings, loads_config
from newswatch.errors import ConfigError

SOURCE = Path("conf/w.yaml")
VALID_KEYS = (
    "database, poll, terms, opml, feeds, watches, health, stories, retention, destinations, metrics"
)
TYPES = "slack, webhook, email, console, apprise"


def load(text: str, env: dict[str, str] | None = None) -> Settings:
    """Load ``text`` (dedented) as if read from conf/w.yaml."""
    return loads_config(dedent(text), SOURCE, env or {})


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    """The ``LINE:COLUMN: message`` of every problem loading ``text`` reports."""
    with pytest.raises(ConfigError) as info:
        load(text, env)
    assert all(p.path == str(SOURCE) for p in info.value.problems)
    return [f"{p.line}:{p.column}: {p.message}" for p in info.value.problems]
