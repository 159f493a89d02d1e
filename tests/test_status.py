"""`newswatch status`: readable table, script-friendly JSON, no secrets, no terminal tricks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newswatch import health
from newswatch.app.status import feed_statuses, table, to_json
from newswatch.config import FeedSettings, HealthSettings, Settings
from newswatch.models import FeedState

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SECRET = "https://user:pa55word@feeds.example.org/private.xml?token=hunter2"
OK_URL = "https://ok.example.org/rss"
GONE_URL = "https://gone.example.org/rss"
STALE_URL = "https://stale.example.org/rss"
SETTINGS = Settings(
    feeds=(
        FeedSettings(url=OK_URL, name="Wire"),
        FeedSettings(url=SECRET),
        FeedSettings(url=GONE_URL, name="Old"),
        FeedSettings(url=STALE_URL),
        FeedSettings(url="https://new.example.org/rss", name="Fresh"),
    ),
    health=HealthSettings(failing_after=timedelta(hours=1), stale_after=timedelta(days=7)),
)
STATES = {
    OK_URL: FeedState(
        url=OK_URL,
        current_url=OK_URL,
        last_fetch_at=NOW - HOUR,
        last_success_at=NOW - HOUR,
        last_new_item_at=NOW - HOUR,
        last_status=200,
        items_seen=12,
        next_poll_at=NOW + HOUR,
        warning="the document is not valid utf-8 as declared",
    ),
    SECRET: FeedState(
        url=SECRET,
        current_url=SECRET,
        title="Evil\x1b[31m title\u202e",
        last_fetch_at=NOW - HOUR,
        last_status=500,
        error_streak=3,
        failing_since=NOW - 5 * HOUR,
        last_error=f"HTTP 500 from {SECRET}",
        next_poll_at=NOW + HOUR,
        backoff_until=NOW + 2 * HOUR,
    ),
    GONE_URL: FeedState(
        url=GONE_URL,
        current_url=GONE_URL,
        last_fetch_at=NOW - HOUR,
        last_status=410,
        error_streak=1,
        last_error="HTTP 410 (gone)",
        gone=True,
    ),
    STALE_URL: FeedState(
        url=STALE_URL,
        current_url=STALE_URL,
        title="Quiet",
        last_fetch_at=NOW - HOUR,
        last_success_at=NOW - HOUR,
        last_new_item_at=NOW - timedelta(days=9),
        last_status=304,
    ),
}


def rows() -> list[str]:
    return table(feed_statuses(SETTINGS, STATES, NOW), NOW)


def test_table_has_one_line_per_feed_with_state_and_times() -> None:
    """Each feed gets a line: name, state, relative times, HTTP status, streak, items, next."""
    lines = rows()
    assert lines[0].startswith("FEED")
    assert " ".join(lines[0].split()) == (
        "FEED STATE LAST FETCH LAST SUCCESS HTTP ERRORS ITEMS NEXT POLL"
    )
    wire = lines[1].split()
    assert wire[:2] == ["Wire", "warning"]
    assert "1h ago" in lines[1] and "in 1h" in lines[1] and wire[-3:-2] == ["12"]
    assert [line.split()[0] for line in lines[1:6]] == ["Wire", "Evil", "Old", "Quiet", "Fresh"]


def test_conditions() -> None:
    """ok/warning, failing, gone, stale and new are told apart."""
    found = [r.condition for r in feed_statuses(SETTINGS, STATES, NOW)]
    assert found == ["warning", "failing", "gone", "stale", "new"]


def test_failing_feed_shows_streak_since_and_error_and_backoff() -> None:
    """A failing feed's problem line says since when, how many times and why; its next poll
    is the end of its backoff."""
    lines = rows()
    assert "in 2h" in lines[2]
    problem = next(line for line in lines if "failing since" in line)
    assert problem == (
        "  Evil [31m title: failing since 5h ago (3 failures in a row): "
        "HTTP 500 from https://feeds.example.org/…"
    )


def test_gone_and_stale_and_warning_problems() -> None:
    """A gone feed says it is no longer polled; a stale one since when it had nothing new;
    a warning is shown."""
    text = "\n".join(rows())
    assert "Old: gone (HTTP 410 (gone)): no longer polled" in text
    assert "Quiet: no new item since 9d ago" in text
    assert "Wire: warning: the document is not valid utf-8 as declared" in text


def test_no_secret_and_no_control_characters() -> None:
    """Credentials and tokens from a feed URL, escapes and bidi overrides from a feed title
    never reach the terminal or the JSON."""
    text = "\n".join(rows()) + repr([to_json(r) for r in feed_statuses(SETTINGS, STATES, NOW)])
    for leaked in ("pa55word", "hunter2", "user:", "\x1b", "\u202e"):
        assert leaked not in text


def test_json_fields() -> None:
    """--json gives machine-readable times and every field the table shows."""
    data = to_json(feed_statuses(SETTINGS, STATES, NOW)[1])
    assert data == {
        "feed": "Evil [31m title",
        "url": "https://feeds.example.org/private.xml?…",
        "current_url": "https://feeds.example.org/private.xml?…",
        "state": "failing",
        "last_fetch": "2026-11-24T11:00:00Z",
        "last_success": None,
        "last_status": 500,
        "error_streak": 3,
        "failing_since": "2026-11-24T07:00:00Z",
        "last_error": "HTTP 500 from https://feeds.example.org/…",
        "warning": None,
        "items_seen": 0,
        "last_new_item": None,
        "next_poll": "2026-11-24T14:00:00Z",
        "gone": False,
        "claim": None,
    }


def test_status_and_health_notices_share_one_rule() -> None:
    """A feed that has failed for less than failing_after is "erroring", not "failing" (no
    notice has said failing yet); one that got items but none new for stale_after is
    "stale" exactly when a stale notice would be sent."""
    lenient = SETTINGS.model_copy(
        update={"health": HealthSettings(failing_after=timedelta(hours=6))}
    )
    found = {r.state.url: r.condition for r in feed_statuses(lenient, STATES, NOW)}
    assert found[SECRET] == "erroring"
    problems = table(feed_statuses(lenient, STATES, NOW), NOW)
    assert any("erroring since 5h ago (3 failures in a row)" in line for line in problems)
    for url, state in STATES.items():
        notice = health.assess(state, lenient.health, NOW)
        expected = "erroring" if notice is None else notice.value
        if expected == "ok" and state.warning:
            expected = "warning"
        assert found[url] == expected
