"""Commands that work when operations need them (SPEC §2): read-only commands without the
destinations' secrets and without creating a database; exit codes like grep for
`explain` and `try`; `run --once` exit 1 on a total outage; `--json` records; logs in UTC."""

from __future__ import annotations

import json
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from support.cli import newswatch
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import WebhookReceiver

pytestmark = pytest.mark.slow

STORY = Item(
    guid="story-1",
    title="Leaked documents show Lukashenko planned the vote",
    link="https://news.example/belarus/leak",
    summary="Papers seen by reporters in Minsk.",
)
OTHER = Item(guid="other-1", title="Weather: snow expected", link="https://news.example/weather")
READ_ONLY = [
    ["status"],
    ["alerts"],
    ["replay"],
    ["explain", "--text", "Lukashenko spoke"],
]


def write_config(tmp_path: Path, feeds: list[str], hook: str = "${HOOK_URL}") -> Path:
    config = tmp_path / "watchlist.yaml"
    listed = "\n".join(f"  - url: {url}" for url in feeds) or "  []"
    config.write_text(
        textwrap.dedent("""\
        database: state.db
        poll: {first_run: all, timeout: 5s}
        feeds:
        """)
        + listed
        + textwrap.dedent(f"""
        watches:
          - name: belarus
            keywords: [Lukashenko]
        destinations:
          - name: hook
            type: webhook
            url: "{hook}"
            secret: ${{HOOK_SECRET}}
        """)
    )
    return config


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: a[0])
def test_read_only_commands_need_no_secrets_and_create_no_database(
    tmp_path: Path, args: list[str]
) -> None:
    """With the destinations' secrets unset, a read-only command still reads the config;
    where it needs the database, a missing one is an error naming its path (exit 1) and no
    file appears."""
    config = write_config(tmp_path, ["https://feeds.example.org/rss"])
    result = newswatch(config, *args)
    assert "HOOK_URL" not in result.stderr and "HOOK_SECRET" not in result.stderr
    if args[0] == "explain":
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1
        assert f"no database at {tmp_path / 'state.db'}" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watchlist.yaml"]


def test_check_and_run_still_require_the_secrets(tmp_path: Path) -> None:
    """`check` validates for running: an unset secret is a configuration error (exit 2)."""
    config = write_config(tmp_path, ["https://feeds.example.org/rss"])
    for args in (["check"], ["run", "--once"]):
        result = newswatch(config, *args)
        assert result.returncode == 2
        assert "environment variable HOOK_URL is not set" in result.stderr
    assert not (tmp_path / "state.db").exists()


def test_explain_exits_like_grep(tmp_path: Path) -> None:
    """0 when some watch matches, 1 when none does; --json gives one object per watch."""
    config = write_config(tmp_path, [])
    assert newswatch(config, "explain", "--text", "Lukashenko spoke").returncode == 0
    none = newswatch(config, "explain", "--text", "weather", "--json")
    assert none.returncode == 1
    (record,) = [json.loads(line) for line in none.stdout.splitlines()]
    assert record["watch"] == "belarus" and record["matches"] is False


def test_run_once_exits_1_when_no_feed_could_be_fetched(tmp_path: Path) -> None:
    """Every feed down: exit 1 (an outage cron can see); one of two down: exit 0."""
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/up", rss("Up", [OTHER]))
        down = feeds.url("/missing")
        config = write_config(tmp_path, [down, feeds.url("/missing-too")], hook.url)
        outage = newswatch(config, "run", "--once", HOOK_SECRET="s")
        assert outage.returncode == 1
        assert "no feed could be fetched" in outage.stderr
        config = write_config(tmp_path, [down, feeds.url("/up")], hook.url)
        partial = newswatch(config, "run", "--once", HOOK_SECRET="s")
        assert partial.returncode == 0, partial.stderr


def test_try_shows_entries_and_exits_like_grep(tmp_path: Path) -> None:
    """`try URL` shows each entry as newswatch sees it and which watch would alert; it
    stores nothing; exit 0 when some watch would alert, 1 when none would."""
    with FeedServer() as feeds:
        feeds.add("/rss", rss("Wire", [STORY, OTHER]))
        feeds.add("/quiet", rss("Quiet", [OTHER]))
        config = write_config(tmp_path, [])
        shown = newswatch(config, "try", feeds.url("/rss"))
        quiet = newswatch(config, "try", feeds.url("/quiet"), "--json")
    assert shown.returncode == 0, shown.stderr
    assert "Wire — 2 entries" in shown.stdout
    assert f"  title:     {STORY.title}" in shown.stdout
    assert f"  link:      {STORY.link}" in shown.stdout
    assert "  ALERT belarus: Lukashenko (title)" in shown.stdout
    assert "  no watch would alert" in shown.stdout
    assert quiet.returncode == 1
    (record,) = [json.loads(line) for line in quiet.stdout.splitlines()]
    assert record["title"] == OTHER.title and record["alerts"] == []
    assert record["published"].endswith("Z")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watchlist.yaml"]


def test_try_reads_a_file_and_reports_a_missing_one(tmp_path: Path) -> None:
    """A PATH is read like a fetched body; a missing file is reported, and exits 1."""
    feed = tmp_path / "saved.xml"
    feed.write_bytes(rss("Saved", [STORY]))
    config = write_config(tmp_path, [])
    found = newswatch(config, "try", str(feed), "--json")
    assert found.returncode == 0, found.stderr
    (record,) = [json.loads(line) for line in found.stdout.splitlines()]
    assert record["alerts"][0]["watch"] == "belarus"
    assert {"term": "Lukashenko", "field": "title"}.items() <= record["alerts"][0]["matched"][
        0
    ].items()
    missing = newswatch(config, "try", str(tmp_path / "nope.xml"))
    assert missing.returncode == 1
    assert "cannot read" in missing.stdout


def test_json_records_of_check_alerts_and_replay(tmp_path: Path) -> None:
    """`check`, `alerts` and `replay` with --json print one object per line, RFC 3339 UTC
    times; no secret appears."""
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/rss", rss("Wire", [STORY]))
        config = write_config(tmp_path, [feeds.url("/rss")], hook.url + "?token=T0KEN")
        assert newswatch(config, "run", "--once", HOOK_SECRET="s3cret").returncode == 0
        check = newswatch(config, "check", "--json", HOOK_SECRET="s3cret")
        alerts = newswatch(config, "alerts", "--json")
        replay = newswatch(config, "replay", "--json")
    kinds = [json.loads(line)["kind"] for line in check.stdout.splitlines()]
    assert kinds == ["feed", "watch", "destination"]
    (delivery,) = [json.loads(line) for line in alerts.stdout.splitlines()]
    assert delivery["state"] == "sent" and delivery["destination"] == "hook"
    assert delivery["created"].endswith("Z") and delivery["title"] == STORY.title
    (would,) = [json.loads(line) for line in replay.stdout.splitlines()]
    assert would["watch"] == "belarus" and would["copies"] == 0
    for output in (check.stdout, alerts.stdout, replay.stdout):
        assert "s3cret" not in output and "T0KEN" not in output


def test_log_times_are_utc_whatever_tz_says(tmp_path: Path) -> None:
    """Log lines carry UTC times with a Z, under TZ=Europe/Minsk too."""
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/rss", rss("Wire", [STORY]))
        config = write_config(tmp_path, [feeds.url("/rss")], hook.url)
        result = newswatch(config, "run", "--once", HOOK_SECRET="s", TZ="Europe/Minsk")
    assert result.returncode == 0, result.stderr
    logged = [line for line in result.stderr.splitlines() if " INFO " in line]
    assert logged, result.stderr
    now = datetime.now(UTC)
    for line in logged:
        stamp = datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
        assert abs((now - stamp).total_seconds()) < 300, line  # Minsk is UTC+3


def test_log_lines_name_feeds_and_say_what_happened(tmp_path: Path) -> None:
    """Feed lines carry the configured name and the redacted URL (--verbose too); a failure
    without an HTTP answer says what happened instead of `status=None`; a destination that
    recovers says so once."""
    from support.receivers import Reply

    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/rss?token=T0KEN", rss("Wire", [STORY]))
        config = tmp_path / "watchlist.yaml"
        config.write_text(
            textwrap.dedent(f"""\
            database: state.db
            poll: {{first_run: all, timeout: 5s}}
            feeds:
              - {{url: "{feeds.url("/rss?token=T0KEN")}", name: Wire Desk}}
              - {{url: "http://127.0.0.1:9/closed", name: Closed}}
            watches: [{{name: belarus, keywords: [Lukashenko]}}]
            destinations: [{{name: hook, type: webhook, url: "{hook.url}"}}]
            """)
        )
        hook.script(Reply(503, headers={"Retry-After": "0"}))
        first = newswatch(config, "--verbose", "run", "--once")
        time.sleep(1.2)  # the destination's pause after Retry-After: 0 is 1 s
        second = newswatch(config, "run", "--once")
        third = newswatch(config, "run", "--once")
    log = first.stderr + second.stderr + third.stderr
    wire = feeds.url("/rss")
    assert f'feed polled feed="Wire Desk" url={wire}?… new=1 alerts=1' in first.stderr
    assert f'feed fetched feed="Wire Desk" url={wire}?… status=ok http=200' in first.stderr
    closed = next(line for line in first.stderr.splitlines() if "feed failed" in line)
    assert 'feed="Closed" url=http://127.0.0.1:9/closed streak=1 error=' in closed
    assert "None" not in log and "T0KEN" not in log
    assert "delivery failed destination=hook alert=" in first.stderr
    recovered = [line for line in log.splitlines() if "destination recovered" in line]
    assert len(recovered) == 1 and "destination=hook after 1 failed attempt" in recovered[0]
