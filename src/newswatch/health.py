"""Feed health (SPEC ``health:``): when a feed's condition changes, say so once.

Pure: given what the store knows about a feed, the health settings and ``now``, decide the
feed's health and, when it differs from the health last announced, the notice to send. A
notice travels as an alert of kind ``health`` through the same outbox and destinations as
article alerts, so it is retried, rate-limited and never lost the same way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from newswatch.config import HealthSettings, format_duration
from newswatch.models import FeedState

NOTICE_WATCH = "feed health"  # the watch name health notices carry in every destination


class Health(enum.StrEnum):
    """A feed's health as announced."""

    OK = "ok"
    FAILING = "failing"  # failed continuously for at least failing_after
    STALE = "stale"  # no new item for stale_after
    GONE = "gone"  # 410


@dataclass(frozen=True, slots=True)
class Notice:
    """A message about a change of a feed's health."""

    health: Health
    title: str  # one line: what happened
    detail: str  # a sentence or two: since when, why, what to do


def assess(state: FeedState, settings: HealthSettings, now: datetime) -> Health | None:
    """The feed's health now, or None while it is undecided (failing, but for less than
    ``failing_after``: the last announced health stands)."""
    if state.gone:
        return Health.GONE
    if state.error_streak:
        since = state.failing_since
        if since is not None and now - since >= settings.failing_after:
            return Health.FAILING
        return None
    last_new = state.last_new_item_at
    if last_new is not None and now - last_new >= settings.stale_after:
        return Health.STALE
    return Health.OK


def condition(state: FeedState, settings: HealthSettings, now: datetime) -> str:
    """One word for where a feed stands, as ``status`` shows it — by the same rule that
    decides the notices (:func:`assess`), so ``status`` never reports a condition that no
    notice announced: ``new`` (never fetched), ``erroring`` (failed, but for less than
    ``failing_after``), ``failing``, ``stale``, ``gone``, ``warning`` (fetched, with a
    problem in the document), ``ok``."""
    if state.gone:
        return Health.GONE.value
    if state.last_fetch_at is None:
        return "new"
    health = assess(state, settings, now)
    if health is None:
        return "erroring"
    if health is Health.OK and state.warning:
        return "warning"
    return health.value


def change(
    state: FeedState, name: str, settings: HealthSettings, now: datetime
) -> tuple[Health, Notice | None] | None:
    """The new health to record and the notice to send for it (None for none), or None
    when nothing changed. ``state.health`` is the health last announced (None: ok)."""
    current = assess(state, settings, now)
    previous = Health(state.health) if state.health else Health.OK
    if current is None or current is previous:
        return None
    return current, _notice(state, name, previous, current, now)


def _notice(
    state: FeedState, name: str, previous: Health, current: Health, now: datetime
) -> Notice | None:
    if current is Health.GONE:
        return Notice(
            current,
            f"{name} is gone (HTTP 410)",
            "The server says the feed was removed for good, so newswatch no longer polls "
            "it. Remove it from the configuration, or replace its URL.",
        )
    if current is Health.FAILING:
        since = _for(state.failing_since, now)
        return Notice(
            current,
            f"{name} has been failing for {since}",
            f"{state.error_streak} polls in a row failed; the last error: "
            f"{state.last_error or 'unknown'}. newswatch keeps trying, backing off up to 6 h.",
        )
    if current is Health.STALE:
        return Notice(
            current,
            f"{name} has had no new item for {_for(state.last_new_item_at, now)}",
            "The feed answers, but nothing new has appeared in it. It may have moved or "
            "stopped being updated.",
        )
    if previous is Health.FAILING:
        return Notice(current, f"{name} has recovered", "The feed is fetched and parsed again.")
    if previous is Health.STALE:
        return Notice(current, f"{name} has new items again", "The feed is being updated again.")
    return None  # gone -> ok cannot be observed; nothing to say


def _for(since: datetime | None, now: datetime) -> str:
    """How long since ``since``, to the hour past a day, to the minute past an hour."""
    if since is None:
        return "a while"
    seconds = max(int((now - since).total_seconds()), 1)
    unit = 3600 if seconds >= 86400 else 60 if seconds >= 3600 else 1
    return format_duration(timedelta(seconds=seconds // unit * unit))
