"""`newswatch explain`, `newswatch replay` and the watchlist's configuration errors, run
as a user runs them (a real subprocess, real SQLite files)."""

from __future__ import annotations

import re
import sqlite3
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.models import Article
from newswatch.store import FeedUpdate, SQLiteStore
from support.cli import newswatch
from support.receivers import WebhookReceiver

FEED = "https://feeds.example.org/rss"
OTHER = "https://other.example.org/rss"
CONFIG = f"""\
database: state.db
terms:
  belarus: [Belarus, Беларусь]
feeds:
  - {{url: "{FEED}", name: Example}}
  - {{url: "{OTHER}", name: Other}}
watches:
  - name: belarus
    keywords: ["@belarus"]
    query: 'NOT hockey'
    languages: [ru]
  - name: leaks
    query: 'title:leak* AND (Lukashenko OR Лукашенко)'
  - name: example-only
    keywords: [Minsk]
    feeds: [Example]
destinations:
  - {{name: hook, type: webhook, url: "${{HOOK_URL}}"}}
"""


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "watchlist.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# ------------------------------------------------------------------ explain


def test_explain_text_shows_terms_fields_and_positions(tmp_path: Path) -> None:
    """`explain --text` says which watches match and where their terms are."""
    result = newswatch(
        write(tmp_path), "explain", "--text", "Протест в Беларуси", HOOK_URL="http://x.test/"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "belarus: MATCHES" in lines
    assert '    Беларусь (@belarus): content 10-18 "Беларуси"' in lines
    assert "leaks: no match" in lines
    assert "  query: FAILS: 'leak*' (column 7) does not occur in the title" in lines


def test_explain_file_and_title(tmp_path: Path) -> None:
    """`explain --file` reads the text from a file; `--title` fills the title field."""
    text = tmp_path / "article.txt"
    text.write_text("Лукашенко отказался комментировать.", encoding="utf-8")
    result = newswatch(
        write(tmp_path),
        "explain",
        "--file",
        str(text),
        "--title",
        "Documents leaked",
        "--watch",
        "leaks",
        HOOK_URL="http://x.test/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "leaks: MATCHES"
    assert '    leak*: title 10-16 "leaked"' in result.stdout.splitlines()
    assert "belarus" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give the text with --text TEXT or --file PATH"),
        (("--text", "a", "--file", "-"), "give the text with --text TEXT or --file PATH"),
        (("--text", "a", "--watch", "belaruss"), "no watch named 'belaruss'; watches:"),
    ],
)
def test_explain_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    """A missing or doubled text, or an unknown watch, is a usage error."""
    result = newswatch(write(tmp_path), "explain", *args, HOOK_URL="http://x.test/")
    assert result.returncode == 2
    assert message in result.stderr


# ------------------------------------------------------------------ replay


def article(
    key: str, title: str, content: str = "", feed: str = FEED, published: datetime | None = None
) -> Article:
    link = f"https://news.example.org/{key}"
    return Article(feed, key, link, link, title, content=content, published=published)


def store_articles(tmp_path: Path, now: datetime) -> None:
    """A database as the daemon leaves it: feeds polled, articles stored, no alerts. Each
    article is published when its feed was polled (so ``first_run`` lets it alert)."""
    store = SQLiteStore(tmp_path / "state.db")
    store.ensure_feeds([(FEED, "Example"), (OTHER, "Other")])
    at = now - timedelta(hours=2)
    fresh = [
        article("1", "Протесты в Беларуси", "Люди вышли на улицы.", published=at),
        article("2", "Documents leaked, Lukashenko silent", published=at),
        article("3", "Belarus beat Latvia at hockey", published=at),
        article("4", "Weather in Minsk", published=at),
    ]
    store.commit_poll(FEED, FeedUpdate(success=True), fresh, {}, at)
    at = now - timedelta(hours=1)
    other = [article("5", "Minsk metro extended", feed=OTHER, published=at)]
    store.commit_poll(OTHER, FeedUpdate(success=True), other, {}, at)
    at = now - timedelta(days=30)
    old = [article("6", "Belarus in 2019", feed=OTHER, published=at)]
    store.commit_poll(OTHER, FeedUpdate(success=True), old, {}, at)
    store.close()


def outbox(tmp_path: Path) -> tuple[int, int]:
    with sqlite3.connect(tmp_path / "state.db") as db:
        alerts = db.execute("SELECT count(*) FROM alerts").fetchone()[0]
        deliveries = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    return alerts, deliveries


def test_replay_prints_would_be_alerts_and_sends_nothing(tmp_path: Path) -> None:
    """`replay` matches the stored articles against the current watchlist, honours
    exclusions and feed lists, prints each would-be alert, and changes nothing."""
    store_articles(tmp_path, datetime.now(UTC))
    with WebhookReceiver() as hook:
        result = newswatch(write(tmp_path), "replay", HOOK_URL=hook.url)
        assert result.returncode == 0, result.stderr
        assert hook.requests == []
    out = result.stdout
    assert "[belarus] Протесты в Беларуси" in out
    assert "    matched: Беларусь (title)" in out
    assert "    https://news.example.org/1" in out
    assert "[leaks] Documents leaked, Lukashenko silent" in out
    assert "[example-only] Weather in Minsk" in out
    assert "hockey" not in out  # excluded by the query
    assert "Minsk metro" not in out  # another feed than the watch's
    assert "2019" not in out  # older than the default 7 days
    assert re.search(
        r"replayed 5 stored articles since .* against 3 watches: "
        r"3 would-be alerts; nothing was sent",
        result.stderr,
    ), result.stderr
    assert outbox(tmp_path) == (0, 0)


def test_replay_since_and_watch(tmp_path: Path) -> None:
    """`--since` widens or narrows the window; `--watch` replays one watch."""
    store_articles(tmp_path, datetime.now(UTC))
    config = write(tmp_path)
    everything = newswatch(
        config, "replay", "--since", "all", "--watch", "belarus", HOOK_URL="http://x.test/"
    )
    assert everything.returncode == 0, everything.stderr
    assert "[belarus] Belarus in 2019" in everything.stdout
    assert "[leaks]" not in everything.stdout
    recent = newswatch(config, "replay", "--since", "90m", HOOK_URL="http://x.test/")
    assert "replayed 1 stored articles" in recent.stderr
    assert "[" not in recent.stdout  # the only article that recent alerts nothing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "7x"), "Invalid value for '--since': '7x' is not a duration"),
        (("--watch", "nope"), "no watch named 'nope'"),
    ],
)
def test_replay_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    """A bad window or an unknown watch is a usage error."""
    result = newswatch(write(tmp_path), "replay", *args, HOOK_URL="http://x.test/")
    assert result.returncode == 2
    assert message in result.stderr


def test_replay_without_a_database_says_so(tmp_path: Path) -> None:
    """Before the first poll there is nothing to replay: an error naming the database
    (exit 1, SPEC §2), and no database is created."""
    result = newswatch(write(tmp_path), "replay", HOOK_URL="http://x.test/")
    assert result.returncode == 1
    assert f"no database at {tmp_path / 'state.db'}" in result.stderr
    assert not (tmp_path / "state.db").exists()


# ------------------------------------------------------------------ errors


QUERY_ERRORS = [
    ("query: 'Belarus AND (leak* OR secret'", "query: this '(' is never closed: add ')'", 25),
    ("query: 'Belarus and leak*'", "query: 'and' is not an operator", 21),
    ("query: '@belarsu'", "query: unknown term group '@belarsu' (did you mean '@belarus'?)", 13),
    ("query: '/[/'", "query: invalid regex", 15),
    ("query: 'a NEAR b'", "query: NEAR needs the largest number of words", 15),
    ("query: 'titel:x'", "query: unknown field 'titel:' (did you mean 'title:'?)", 13),
    ("keywords: ['x AND y']", "keywords item 1: AND makes this a query", 19),
    ("languages: [ua]", "languages item 1: unknown language 'ua' (did you mean 'uk'?)", 17),
]


@pytest.mark.parametrize(("line", "message", "column"), QUERY_ERRORS)
def test_watchlist_error_exits_2_with_location_and_caret(
    tmp_path: Path, line: str, message: str, column: int
) -> None:
    """`check` reports a watchlist error at PATH:LINE:COLUMN (the column inside the
    query), names the watch, shows the line with a caret, and exits 2."""
    config = write(
        tmp_path,
        f"""\
        terms: {{belarus: [Belarus]}}
        watches:
          - name: w
            {line}
            exclude: [hockey]
        """,
    )
    if "languages" in line:
        config.write_text(config.read_text() + "    query: Belarus\n")
    result = newswatch(config, "check")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{config}:4:{column}: watch 'w': {message}"), result.stderr
    if "languages" not in line:
        assert lines[1] == f"        {line}"
        assert lines[2] == "    " + " " * (column - 1) + "^"


@pytest.mark.parametrize("command", [("run", "--once"), ("explain", "--text", "x"), ("replay",)])
def test_every_command_refuses_a_bad_query(tmp_path: Path, command: tuple[str, ...]) -> None:
    """Commands that load the configuration refuse a broken query with exit 2."""
    config = write(tmp_path, "watches:\n  - {name: w, query: 'a AND'}\n")
    result = newswatch(config, *command)
    assert result.returncode == 2
    assert f"{config}:2:28: watch 'w': query: expected a term after AND" in result.stderr
