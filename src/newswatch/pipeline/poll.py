"""Polling, sequenced: one feed, one way through the stages.

    poll_feed: store.claim_feed -> fetch -> [worker: parse] -> store.unseen
               -> [worker: match and story signatures, one pass over the new articles]
               -> store.commit_poll (one write: entries,
                  new articles and their stories, alerts, feed state, and the health
                  change that ``health`` judges on that state, with its notice)

A poll without a document (error, 304, 410) commits with ``store.commit_fetch``, also one
write with the health change. Before it, ``store.claim_feed`` is a short write of its own
(it must be seen by others before the fetch): a claim on the feed, so that another
newswatch on the same database neither polls it at the same time nor again within its
interval. The poll's commit releases it.

The daemon and ``run --once`` call these same functions. Nothing here reads the clock or
the environment: ``Runtime.clock`` and the settings come from the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from newswatch import cluster, health
from newswatch.config import FeedSettings, Settings
from newswatch.errors import ParseError
from newswatch.models import (
    Article,
    FeedState,
    FetchResult,
    FetchStatus,
    Match,
    ParsedFeed,
    StorySignature,
)
from newswatch.pipeline.analysis import Analysis, NotHeld, analyse
from newswatch.pipeline.firstrun import alerts_on_first_fetch
from newswatch.pipeline.runtime import Runtime
from newswatch.pipeline.workers import by_name
from newswatch.redact import redact_feed_url, redact_text
from newswatch.store import (
    FeedClaim,
    FeedUpdate,
    HealthChange,
    HealthNotice,
    HealthRules,
    PendingAlert,
    PollRecord,
    Store,
    StoryRules,
)
from newswatch.waits import MAX_WAIT, backoff, capped

log = logging.getLogger(__name__)

ELSEWHERE = "polled_elsewhere"  # another instance on the database polls (or polled) the feed
PARSE_FEED = "newswatch.parse:parse_feed"  # the parser, imported by the workers only
RECHECK = timedelta(seconds=10)  # a feed another instance polls now is looked at again then


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll of one feed did."""

    feed: str
    status: str  # a FetchStatus value, "skipped", "polled_elsewhere" or "error"
    new_articles: int = 0
    alerts: int = 0
    error: str | None = None
    next_poll_at: datetime | None = None
    alerted: tuple[str, ...] = ()  # the watch of each new article alert (for metrics)


def alertable(
    articles: Sequence[Article], state: FeedState, settings: Settings, now: datetime
) -> list[Article]:
    """The new articles that may alert: on a feed's first fetch, ``poll.first_run`` decides."""
    if state.last_success_at is not None:
        return list(articles)
    return [a for a in articles if alerts_on_first_fetch(a.published, settings, now)]


def next_poll(
    settings: Settings,
    feed: FeedSettings,
    result: FetchResult,
    parsed: ParsedFeed | None,
    now: datetime,
) -> datetime:
    """When to poll next on success: the interval, lengthened (never shortened) by the
    feed's ``<ttl>`` or ``Cache-Control: max-age``, both capped at 6 h."""
    interval = settings.feed_interval(feed)
    hints = [s for s in (result.max_age, parsed.ttl if parsed else None) if s]
    hinted = min(timedelta(seconds=max(hints, default=0.0)), MAX_WAIT)
    return now + max(interval, hinted)


def _failure_update(
    settings: Settings,
    feed: FeedSettings,
    state: FeedState,
    result: FetchResult,
    error: str,
    now: datetime,
    poller: str | None = None,
) -> FeedUpdate:
    interval = settings.feed_interval(feed)
    wait = backoff(interval, state.error_streak + 1)
    if result.status is FetchStatus.RETRY_LATER and result.retry_after is not None:
        wait = capped(timedelta(seconds=result.retry_after), interval)
    return FeedUpdate(
        success=False,
        status=result.http_status,
        error=error,
        next_poll_at=now + wait,
        backoff_until=now + wait,
        gone=result.status is FetchStatus.GONE,
        current_url=result.permanent_url,
        poller=poller,
    )


def _alerts(
    rt: Runtime, feed: FeedSettings, matches: Mapping[str, Sequence[Match]]
) -> dict[str, list[PendingAlert]]:
    """The alerts of the matches found (by entry key): of the watches that cover the feed."""
    watches = {w.name: w for w in rt.settings.watches}
    found: dict[str, list[PendingAlert]] = {}
    for entry_key, matched in matches.items():
        for match in matched:
            watch = watches[match.watch]
            if rt.settings.watch_covers(watch, feed.url):
                destinations = rt.settings.watch_destinations(watch)
                found.setdefault(entry_key, []).append(PendingAlert(match, destinations))
    return found


async def _analyse(
    rt: Runtime, feed: FeedSettings, articles: Sequence[Article], to_match: Sequence[Article]
) -> Analysis:
    """The worker pass over the new articles: the matches of ``to_match`` (those that may
    alert) and, with stories on, the signature of each new article."""
    if not articles:
        return Analysis({}, {})
    keys = frozenset(a.entry_key for a in to_match)
    stories = rt.settings.stories.enabled
    try:
        return await rt.workers.run(
            feed.url, analyse, tuple(articles), rt.watches.named(), keys, stories
        )
    except NotHeld:  # this worker has not compiled these watches yet: send them along
        return await rt.workers.run(feed.url, analyse, tuple(articles), rt.watches, keys, stories)


async def poll_feed(rt: Runtime, feed: FeedSettings) -> PollReport:
    """Poll one feed once, whatever happens to it; record the outcome. Never raises for
    anything the feed's server does. The poll starts with a claim on the feed, so that
    another newswatch on the same database does not poll it at the same time (or again
    within its interval); the poll's commit releases it."""
    now = rt.clock()
    claim = await rt.store.call(Store.claim_feed, feed.url, rt.me, now, now + rt.lease)
    state = claim.state
    if not claim.claimed:
        return _not_claimed(rt, feed, claim, now)
    try:
        async with rt.in_flight:
            return await _poll(rt, feed, state)
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug must cost one feed one poll, not the daemon
        log.exception("poll failed unexpectedly %s", feed_context(feed))
        error = redact_text(f"internal error: {exc.__class__.__name__}: {exc}")
        update = _failure_update(
            rt.settings,
            feed,
            state,
            FetchResult(url=feed.url, status=FetchStatus.FAILED),
            error,
            rt.clock(),
            rt.me.id,
        )
        await rt.store.call(Store.commit_fetch, feed.url, update, rt.clock())
        return PollReport(feed.url, "error", error=error, next_poll_at=update.next_poll_at)


def _not_claimed(rt: Runtime, feed: FeedSettings, claim: FeedClaim, now: datetime) -> PollReport:
    """Why a feed was not polled: another instance polls it now (looked at again in
    ``RECHECK``), it is gone or backing off, or another instance polled it within
    its interval (due when that poll said)."""
    state = claim.state
    if claim.holder is not None:
        log.info("feed skipped %s: polled now by %s", feed_context(feed), claim.holder.who())
        # Look again soon: if the other poll ends, it says when the feed is due; if the
        # other process died, its claim ends and this one polls.
        until = now + min(rt.settings.feed_interval(feed), RECHECK)
        return PollReport(
            feed.url, ELSEWHERE, error=f"polled by {claim.holder.who()}", next_poll_at=until
        )
    if state.gone:
        return PollReport(feed.url, "skipped", error="gone (HTTP 410): no longer polled")
    if state.backoff_until is not None and state.backoff_until > now:
        return PollReport(
            feed.url, "skipped", next_poll_at=state.backoff_until, error="backing off after errors"
        )
    who = claim.polled_by.who() if claim.polled_by is not None else "another newswatch"
    return PollReport(
        feed.url,
        ELSEWHERE,
        error=f"polled by {who} within its interval",
        next_poll_at=state.next_poll_at,
    )


def feed_context(feed: FeedSettings) -> str:
    """How a log line names a feed: ``feed="Wire" url=https://host/rss`` (configured name,
    quoted, and the URL without user info or query), or just ``feed=URL`` without a name."""
    if not feed.name:
        return f"feed={feed.label}"
    name = feed.name.replace("\\", "\\\\").replace('"', '\\"')
    return f'feed="{name}" url={redact_feed_url(feed.url)}'


def _health_rules(rt: Runtime, feed: FeedSettings, now: datetime) -> HealthRules:
    """How the store is to judge, inside the poll's write, whether the feed's health
    changed (``health.change`` on the state the poll left) and whom to notify."""

    def judge(state: FeedState) -> HealthChange | None:
        name = feed.name or state.title or redact_feed_url(feed.url)
        changed = health.change(state, name, rt.settings.health, now)
        if changed is None:
            return None
        new, notice = changed
        if notice is None:
            return HealthChange(new.value)
        return HealthChange(
            new.value, HealthNotice(health.NOTICE_WATCH, notice.title, notice.detail)
        )

    return HealthRules(judge, tuple(rt.settings.health.notify))


def _announced(feed: FeedSettings, record: PollRecord) -> int:
    """Log the health change a poll recorded, if it has a notice; 1 when the notice was
    queued (it counts as an alert of the poll), else 0."""
    change = record.health
    if change is not None and change.notice is not None:
        log.warning(
            "feed health %s health=%s: %s", feed_context(feed), change.health, change.notice.title
        )
    return 0 if record.notice is None else 1


async def _poll(rt: Runtime, feed: FeedSettings, state: FeedState) -> PollReport:
    result = await rt.fetcher.fetch(
        state.current_url, etag=state.etag, last_modified=state.last_modified
    )
    http = f" http={result.http_status}" if result.http_status is not None else ""
    log.debug("feed fetched %s status=%s%s", feed_context(feed), result.status.value, http)
    now = rt.clock()
    if result.status is FetchStatus.NOT_MODIFIED:
        update = FeedUpdate(
            success=True,
            status=result.http_status,
            next_poll_at=next_poll(rt.settings, feed, result, None, now),
            current_url=result.permanent_url,
            poller=rt.me.id,
        )
        record = await rt.store.call(
            Store.commit_fetch, feed.url, update, now, _health_rules(rt, feed, now)
        )
        return PollReport(
            feed.url,
            result.status.value,
            alerts=_announced(feed, record),
            next_poll_at=update.next_poll_at,
        )
    if result.status is not FetchStatus.OK:
        return await _record_failure(rt, feed, state, result, result.error or result.status.value)
    try:
        url = result.final_url or state.current_url
        parsed: ParsedFeed = await rt.workers.run(
            url, by_name, PARSE_FEED, result.body, feed_url=url, content_type=result.content_type
        )
    except ParseError as exc:
        return await _record_failure(rt, feed, state, result, str(exc))
    return await _record_articles(rt, feed, state, result, parsed)


async def _record_failure(
    rt: Runtime, feed: FeedSettings, state: FeedState, result: FetchResult, error: str
) -> PollReport:
    now = rt.clock()
    update = _failure_update(rt.settings, feed, state, result, error, now, rt.me.id)
    record = await rt.store.call(
        Store.commit_fetch, feed.url, update, now, _health_rules(rt, feed, now)
    )
    http = f" http={result.http_status}" if result.http_status is not None else ""
    log.warning(
        "feed failed %s%s streak=%d error=%s",
        feed_context(feed),
        http,
        state.error_streak + 1,
        error,
    )
    return PollReport(
        feed.url,
        result.status.value,
        alerts=_announced(feed, record),
        error=error,
        next_poll_at=update.next_poll_at,
    )


async def _record_articles(
    rt: Runtime, feed: FeedSettings, state: FeedState, result: FetchResult, parsed: ParsedFeed
) -> PollReport:
    candidates = await rt.store.call(Store.unseen, feed.url, parsed.articles)
    now = rt.clock()
    analysis = await _analyse(rt, feed, candidates, alertable(candidates, state, rt.settings, now))
    matches = _alerts(rt, feed, analysis.matches)
    update = FeedUpdate(
        success=True,
        status=result.http_status,
        etag=result.etag,
        last_modified=result.last_modified,
        current_url=result.permanent_url,
        title=parsed.title or None,
        next_poll_at=next_poll(rt.settings, feed, result, parsed, now),
        parsed=True,
        warning=parsed.warning,
        poller=rt.me.id,
    )
    record = await rt.store.call(
        Store.commit_poll,
        feed.url,
        update,
        candidates,
        matches,
        now,
        _story_rules(rt, analysis.signatures),
        document=[a.entry_key for a in parsed.articles],
        health=_health_rules(rt, feed, now),
    )
    if parsed.warning and parsed.warning != state.warning:
        log.warning("feed problem %s: %s", feed_context(feed), parsed.warning)
    if record.new_articles:
        log.info(
            "feed polled %s new=%d alerts=%d",
            feed_context(feed),
            len(record.new_articles),
            len(record.alerts),
        )
    for absorbed, into in record.merged:
        log.info("story merged %s story=%d into=%d", feed_context(feed), absorbed, into)
    if record.cancelled:
        cancelled = ",".join(record.cancelled)
        log.info("alerts cancelled (story merged) %s alerts=%s", feed_context(feed), cancelled)
    return PollReport(
        feed.url,
        result.status.value,
        len(record.new_articles),
        len(record.alerts) + _announced(feed, record),
        next_poll_at=update.next_poll_at,
        alerted=record.alert_watches,
    )


def _story_rules(rt: Runtime, signatures: Mapping[str, StorySignature]) -> StoryRules | None:
    """How the store is to recognise the same story for the articles of ``signatures``
    (None when stories are off or nothing is new)."""
    settings = rt.settings.stories
    if not settings.enabled or not signatures:
        return None
    return StoryRules(
        signatures=signatures,
        window=settings.window,
        same=partial(cluster.same, threshold=settings.threshold),
        fingerprint=cluster.fingerprint,
        why=partial(cluster.why, threshold=settings.threshold),
        key_format=cluster.KEY_FORMAT,
    )


async def poll_feeds(rt: Runtime, feeds: Iterable[FeedSettings]) -> list[PollReport]:
    """Poll several feeds at once; concurrency is bounded by the fetcher."""
    return list(await asyncio.gather(*(poll_feed(rt, feed) for feed in feeds)))
