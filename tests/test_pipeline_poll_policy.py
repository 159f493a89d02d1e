"""The pipeline's polling policy: backoff, Retry-After, and <ttl>/max-age intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newswatch.config import FeedSettings, PollSettings, Settings
from newswatch.models import FeedState, FetchResult, FetchStatus, ParsedFeed
from newswatch.pipeline.poll import _failure_update, next_poll
from newswatch.waits import MAX_WAIT as MAX_BACKOFF
from newswatch.waits import backoff

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FEED = FeedSettings(url="https://feeds.example.org/rss")
SETTINGS = Settings(poll=PollSettings(interval=timedelta(minutes=10)), feeds=(FEED,))
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("streak", "wait"),
    [(1, 10 * MINUTE), (2, 20 * MINUTE), (3, 40 * MINUTE), (6, 320 * MINUTE), (7, MAX_BACKOFF)],
)
def test_backoff_doubles_and_is_capped(streak: int, wait: timedelta) -> None:
    """Each failure doubles the wait, from the interval up to 6 hours."""
    assert backoff(10 * MINUTE, streak) == wait


def test_backoff_of_a_huge_streak_is_capped() -> None:
    """A streak in the thousands does not overflow: it waits 6 hours."""
    assert backoff(10 * MINUTE, 5000) == MAX_BACKOFF


def result(**fields: object) -> FetchResult:
    return FetchResult(url=FEED.url, status=FetchStatus.OK, **fields)  # type: ignore[arg-type]


def parsed(ttl: float | None) -> ParsedFeed:
    return ParsedFeed(title="t", articles=(), ttl=ttl)


@pytest.mark.parametrize(
    ("max_age", "ttl", "wait"),
    [
        (None, None, 10 * MINUTE),
        (60.0, None, 10 * MINUTE),  # max-age shorter than the interval: ignored
        (None, 120.0, 10 * MINUTE),  # <ttl> shorter: ignored
        (1800.0, None, 30 * MINUTE),  # max-age longer: lengthens
        (None, 3600.0, 60 * MINUTE),  # <ttl> longer: lengthens
        (1800.0, 3600.0, 60 * MINUTE),  # both: the longer
        (None, 10**6 * 60.0, MAX_BACKOFF),  # capped at 6 hours
    ],
)
def test_ttl_and_max_age_lengthen_never_shorten(
    max_age: float | None, ttl: float | None, wait: timedelta
) -> None:
    """<ttl> and Cache-Control max-age may lengthen the interval, never shorten it."""
    assert next_poll(SETTINGS, FEED, result(max_age=max_age), parsed(ttl), NOW) == NOW + wait


def failure(status: FetchStatus, retry_after: float | None = None, streak: int = 0) -> timedelta:
    fetched = FetchResult(url=FEED.url, status=status, retry_after=retry_after)
    state = FeedState(url=FEED.url, current_url=FEED.url, error_streak=streak)
    update = _failure_update(SETTINGS, FEED, state, fetched, "e", NOW)
    assert update.backoff_until == update.next_poll_at
    assert update.next_poll_at is not None
    return update.next_poll_at - NOW


def test_retry_after_sets_the_next_poll() -> None:
    """429/503 with Retry-After: the next poll waits that long."""
    assert failure(FetchStatus.RETRY_LATER, retry_after=3600.0) == 60 * MINUTE


def test_short_retry_after_does_not_poll_faster_than_the_interval() -> None:
    """A Retry-After shorter than the interval never makes polling more frequent."""
    assert failure(FetchStatus.RETRY_LATER, retry_after=5.0) == 10 * MINUTE


def test_retry_after_without_a_value_backs_off() -> None:
    """429 without a readable Retry-After backs off like any failure."""
    assert failure(FetchStatus.RETRY_LATER, streak=2) == 40 * MINUTE


def test_failure_backoff_follows_the_streak() -> None:
    """The fourth failure in a row waits 8 intervals."""
    assert failure(FetchStatus.FAILED, streak=3) == 80 * MINUTE


def test_gone_is_recorded_as_gone() -> None:
    """A 410 marks the feed gone."""
    fetched = FetchResult(url=FEED.url, status=FetchStatus.GONE, http_status=410)
    state = FeedState(url=FEED.url, current_url=FEED.url)
    assert _failure_update(SETTINGS, FEED, state, fetched, "HTTP 410", NOW).gone
