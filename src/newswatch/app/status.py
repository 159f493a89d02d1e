"""``newswatch status``: the state of every configured feed, for a terminal or a script.

Everything shown is safe to paste into a ticket: feed URLs lose user info and query
strings (they may hold tokens), and text that came from a feed server (a feed's title, an
error) is reduced to printable characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from newswatch import health
from newswatch.config import Settings, format_duration
from newswatch.models import Claim, FeedState
from newswatch.redact import redact_feed_url, redact_text

NAME_WIDTH = 40
ERROR_WIDTH = 300


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """One feed as ``status`` reports it."""

    name: str
    state: FeedState
    # health.condition (new, ok, warning, erroring, failing, stale, gone), or disabled
    condition: str

    @property
    def url(self) -> str:
        return redact_feed_url(self.state.url)


def printable(text: str, limit: int) -> str:
    """``text`` on one line without control or format characters, at most ``limit`` long."""
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    line = " ".join(kept.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def feed_statuses(
    settings: Settings, states: Mapping[str, FeedState], now: datetime
) -> list[FeedStatus]:
    """Every configured feed, in configuration order, with its stored state."""
    rows = []
    for feed in settings.feeds:
        state = states.get(feed.url) or FeedState(url=feed.url, current_url=feed.url)
        name = feed.name or state.title or redact_feed_url(feed.url)
        shown = health.condition(state, settings.health, now) if feed.enabled else "disabled"
        rows.append(FeedStatus(printable(name, 200), state, shown))
    return rows


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    delta = now - when
    if abs(delta) < timedelta(seconds=1):
        return "now"
    text = format_duration(timedelta(seconds=round(abs(delta).total_seconds())))
    return f"{text} ago" if delta > timedelta(0) else f"in {text}"


def _stamp(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def next_poll(state: FeedState) -> datetime | None:
    """When the feed will be polled next (None for a gone feed)."""
    if state.gone:
        return None
    if state.backoff_until and (not state.next_poll_at or state.backoff_until > state.next_poll_at):
        return state.backoff_until
    return state.next_poll_at


def to_json(row: FeedStatus) -> dict[str, Any]:
    """One feed for ``status --json``; times are RFC 3339 UTC or null."""
    s = row.state
    return {
        "feed": row.name,
        "url": row.url,
        "current_url": redact_feed_url(s.current_url),
        "state": row.condition,
        "last_fetch": _stamp(s.last_fetch_at),
        "last_success": _stamp(s.last_success_at),
        "last_status": s.last_status,
        "error_streak": s.error_streak,
        "failing_since": _stamp(s.failing_since),
        "last_error": printable(redact_text(s.last_error), ERROR_WIDTH) if s.last_error else None,
        "warning": printable(s.warning, ERROR_WIDTH) if s.warning else None,
        "items_seen": s.items_seen,
        "last_new_item": _stamp(s.last_new_item_at),
        "next_poll": None if row.condition == "disabled" else _stamp(next_poll(s)),
        "gone": s.gone,
        "claim": claim_json(s.claim),
    }


def claim_json(claim: Claim | None) -> dict[str, Any] | None:
    """A process's claim on a feed (``status``) or a delivery (``alerts``) as JSON."""
    if claim is None:
        return None
    return {
        "pid": claim.pid,
        "host": claim.host,
        "since": _stamp(claim.since),
        "expires": _stamp(claim.expires),
    }


def claim_note(claim: Claim, doing: str, now: datetime) -> str:
    """``polling by pid 123 on host h since 10:00:00Z (3 s ago)``; once the claim has
    expired, the process died at it, and the next run takes the work over."""
    since = f"{claim.since.astimezone(UTC):%Y-%m-%d %H:%M:%SZ}"
    if claim.expires > now:
        return f"{doing} by {claim.who()} since {since} ({_ago(claim.since, now)})"
    return f"{doing} by {claim.who()} since {since}: claim expired, the next run takes it over"


def table(rows: Sequence[FeedStatus], now: datetime) -> list[str]:
    """Aligned columns, one line per feed, then one line per feed that has a problem."""
    header = ("FEED", "STATE", "LAST FETCH", "LAST SUCCESS", "HTTP", "ERRORS", "ITEMS", "NEXT POLL")
    lines = [header]
    for row in rows:
        s = row.state
        lines.append(
            (
                printable(row.name, NAME_WIDTH),
                row.condition,
                _ago(s.last_fetch_at, now),
                _ago(s.last_success_at, now),
                str(s.last_status or "-"),
                str(s.error_streak),
                str(s.items_seen),
                "never" if s.gone or row.condition == "disabled" else _ago(next_poll(s), now),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in lines]
    problems = list(_problems(rows, now))
    working = [
        f"  {printable(r.name, NAME_WIDTH)}: {claim_note(r.state.claim, 'polling', now)}"
        for r in rows
        if r.state.claim is not None
    ]
    out += ["", "working now:", *working] if working else []
    return out + (["", "problems:", *problems] if problems else [])


def _problems(rows: Iterable[FeedStatus], now: datetime) -> Iterable[str]:
    for row in rows:
        s = row.state
        name = printable(row.name, NAME_WIDTH)
        error = printable(redact_text(s.last_error or ""), ERROR_WIDTH)
        if s.gone:
            reason = error or "HTTP 410"
            yield f"  {name}: gone ({reason}): no longer polled; remove it or fix its URL"
        elif s.error_streak:
            since = _ago(s.failing_since, now)
            count = f"{s.error_streak} failure{'s' if s.error_streak != 1 else ''} in a row"
            yield f"  {name}: {row.condition} since {since} ({count}): {error}"
        elif row.condition == "stale":
            yield f"  {name}: no new item since {_ago(s.last_new_item_at, now)}"
        if s.warning and not s.gone:
            yield f"  {name}: warning: {printable(s.warning, ERROR_WIDTH)}"
