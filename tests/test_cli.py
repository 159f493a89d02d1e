"""The command line: exit codes, config errors with locations, check, demo, alerts retry."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import click

from newswatch.app.cli import main
from newswatch.store import SQLiteStore
from support.cli import newswatch

ROOT = Path(__file__).resolve().parent.parent
T = "2026-11-24T12:00:00.000000+00:00"
GOOD = """\
database: state.db
feeds: [{url: "https://feeds.example.org/rss", name: Example}]
watches: [{name: belarus, keywords: [Belarus]}]
destinations:
  - {name: hook, type: webhook, url: "https://hooks.example.org/x?token=${HOOK_TOKEN}"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watchlist.yaml"
    path.write_text(text)
    return path


def test_check_valid_config_exits_0_and_masks_secrets(tmp_path: Path) -> None:
    """`check` on a valid file prints a summary, exits 0, and never prints the secret."""
    result = newswatch(write(tmp_path, GOOD), "check", HOOK_TOKEN="tok-12345")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "belarus" in result.stdout
    assert "tok-12345" not in result.stdout + result.stderr


def test_config_error_exits_2_with_file_line_column(tmp_path: Path) -> None:
    """A typo in a key is reported as PATH:LINE:COLUMN with a suggestion, exit 2."""
    path = write(tmp_path, GOOD.replace("keywords", "keywrds"))
    result = newswatch(path, "check", HOOK_TOKEN="x")
    assert result.returncode == 2
    assert re.search(
        rf"^{re.escape(str(path))}:3:\d+: .*keywrds.*keywords", result.stderr, re.MULTILINE
    ), result.stderr


def test_missing_env_variable_is_a_config_error(tmp_path: Path) -> None:
    """A ${VAR} without value or default names the variable, exit 2."""
    result = newswatch(write(tmp_path, GOOD), "check")
    assert result.returncode == 2
    assert "HOOK_TOKEN" in result.stderr


def test_run_with_bad_config_exits_2(tmp_path: Path) -> None:
    """`run --once` refuses to start on an invalid config."""
    result = newswatch(write(tmp_path, "feeds: []\nwatches: oops\n"), "run", "--once")
    assert result.returncode == 2
    assert "watchlist.yaml:2:" in result.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    """A config path that does not exist is a usage error naming the path."""
    result = newswatch(tmp_path / "nope.yaml", "check")
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr


def test_unknown_command_exits_2() -> None:
    """A command that does not exist is a usage error."""
    assert newswatch(None, "frobnicate").returncode == 2


def test_config_from_environment_variable(tmp_path: Path) -> None:
    """$NEWSWATCH_CONFIG is used when --config is absent."""
    path = write(tmp_path, GOOD)
    result = newswatch(None, "check", NEWSWATCH_CONFIG=str(path), HOOK_TOKEN="x")
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout


def test_unopenable_database_is_runtime_failure(tmp_path: Path) -> None:
    """A database that cannot be opened is a runtime failure: exit 1 with the reason."""
    (tmp_path / "state.db").mkdir()
    result = newswatch(write(tmp_path, GOOD), "status", HOOK_TOKEN="x")
    assert result.returncode == 1
    assert "state.db" in result.stderr


def test_demo_prints_alerts_offline() -> None:
    """The demo over the shipped config prints the Belarus story's alert, then nothing new."""
    result = newswatch(ROOT / "config" / "watchlist.yaml", "demo", timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[belarus] Leaked documents detail Lukashenko" in out
    assert "hockey" not in out.lower()
    assert out.count("[belarus] Leaked documents detail") == 1  # the syndicated copy is not new
    assert "second pass: polled 4 feeds (4 not modified); 0 new articles; 0 new alerts." in out


def test_alerts_retry_revives_dead_deliveries(tmp_path: Path) -> None:
    """`alerts retry ID` puts a dead delivery back to pending."""
    path = write(tmp_path, GOOD)
    SQLiteStore(tmp_path / "state.db").close()  # read-only commands never create it
    with sqlite3.connect(tmp_path / "state.db") as conn:
        conn.execute("INSERT INTO feeds (id, url, current_url) VALUES (1, 'https://f/', 'x')")
        conn.execute("INSERT INTO stories (id, created_at, last_seen_at) VALUES (1, ?, ?)", [T, T])
        conn.execute(
            "INSERT INTO articles (id, feed_id, story_id, entry_key, title, seen_at)"
            " VALUES (1, 1, 1, 'k', 'Belarus story', ?)",
            [T],
        )
        conn.execute(
            "INSERT INTO alerts (id, watch, story_id, article_id, matched, snippet, created_at)"
            " VALUES ('a1', 'belarus', 1, 1, '[]', 'snip', ?)",
            [T],
        )
        conn.execute(
            "INSERT INTO deliveries (alert_id, destination, state, attempts, next_attempt_at,"
            " last_error, created_at) VALUES ('a1', 'hook', 'dead', 3, ?, 'HTTP 404', ?)",
            [T, T],
        )
    dead = newswatch(path, "alerts", "--state", "dead", HOOK_TOKEN="x")
    assert "a1" in dead.stdout and "HTTP 404" in dead.stdout
    result = newswatch(path, "alerts", "retry", "a1", HOOK_TOKEN="x")
    assert result.returncode == 0 and "1 deliveries queued again" in result.stdout
    assert "a1" in newswatch(path, "alerts", "--state", "pending", HOOK_TOKEN="x").stdout


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix}{name}")
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix}{name} ")
    return names


def test_every_command_is_documented_in_readme() -> None:
    """Each CLI command and subcommand has help text and appears in the README."""
    readme = (ROOT / "README.md").read_text()
    for name in _commands(main):
        assert f"newswatch {name}" in readme, f"README does not document `newswatch {name}`"
    for command in main.commands.values():
        assert command.help, f"{command.name} has no help text"
