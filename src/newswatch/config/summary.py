"""The short summary of a configuration that ``newswatch check`` prints.

It shows what will be polled, matched and notified, and never a secret: destination URLs
are cut to scheme://host/…, passwords, signing secrets and header values are only said to
be set, and feed URLs lose their credentials and query strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from newswatch.config.appriseurls import scheme_of
from newswatch.config.schema import (
    AppriseDestination,
    ConsoleDestination,
    Destination,
    EmailDestination,
    FeedSettings,
    HealthSettings,
    PollSettings,
    Settings,
    SlackDestination,
    StorySettings,
    WatchSettings,
    WebhookDestination,
)
from newswatch.redact import redact_url

__all__ = ["describe", "describe_records", "format_duration", "format_size"]

_QUERY_SHOWN = 60
_DURATION_STEPS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))
_SIZE_STEPS = (
    ("GB", 10**9),
    ("MB", 10**6),
    ("kB", 10**3),
    ("GiB", 2**30),
    ("MiB", 2**20),
    ("KiB", 2**10),
)


def describe(settings: Settings) -> str:
    """A few lines per section: database, poll defaults, feeds, watches, destinations."""
    lines = [
        f"configuration: {settings.source}",
        f"database: {settings.database} (article text kept {format_duration(settings.retention)})",
        _poll(settings.poll),
    ]
    if settings.terms:
        groups = (f"@{name} ({len(words)} variants)" for name, words in settings.terms.items())
        lines.append("terms: " + ", ".join(groups))
    if settings.opml:
        lines.append("opml: " + ", ".join(str(path) for path in settings.opml))
    disabled = len(settings.feeds) - len(settings.active_feeds)
    lines.append(f"feeds: {len(settings.feeds)}" + (f" ({disabled} disabled)" if disabled else ""))
    lines += [f"  {_feed(settings, feed)}" for feed in settings.feeds]
    lines.append(f"watches: {len(settings.watches)}")
    lines += [f"  {_watch(settings, watch)}" for watch in settings.watches]
    lines.append(_health(settings.health))
    lines.append(_stories(settings.stories))
    lines.append(f"destinations: {len(settings.destinations)}")
    lines += [f"  {_destination(dest)}" for dest in settings.destinations]
    return "\n".join(lines)


def describe_records(settings: Settings) -> Iterator[dict[str, Any]]:
    """What :func:`describe` says, as records for ``check --json``: one per feed, watch and
    destination (secrets masked exactly as in the text)."""
    for feed in settings.feeds:
        yield {
            "kind": "feed",
            "name": feed.name,
            "url": _public_url(feed.url),
            "interval_seconds": settings.feed_interval(feed).total_seconds(),
        }
    for watch in settings.watches:
        yield {
            "kind": "watch",
            "name": watch.name,
            "keywords": list(watch.keywords),
            "query": watch.query,
            "exclude": list(watch.exclude),
            "feeds": None if watch.feeds is None else list(watch.feeds),
            "notify": list(settings.watch_destinations(watch)),
        }
    for dest in settings.destinations:
        yield {
            "kind": "destination",
            "name": dest.name,
            "type": dest.type,
            "summary": _destination(dest),
        }


def format_duration(value: timedelta) -> str:
    """``timedelta(minutes=90)`` -> ``1h30m``: the notation the config file uses (days
    only from two days up)."""
    millis = round(value.total_seconds() * 1000)
    parts = []
    for unit, size in _DURATION_STEPS:
        if unit == "d" and millis < 2 * size:
            continue  # 24h and 36h read better than 1d and 1d12h
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def format_size(value: int) -> str:
    """``10_000_000`` -> ``10 MB``, ``1_048_576`` -> ``1 MiB``, else bytes."""
    for unit, size in _SIZE_STEPS:
        if value >= size and value % size == 0:
            return f"{value // size} {unit}"
    return f"{value} bytes"


def _poll(poll: PollSettings) -> str:
    if poll.first_run == "all":
        first = "alert every item"
    elif poll.first_run == "none":
        first = "alert nothing"
    else:
        first = f"alert items newer than {format_duration(poll.first_run)}"
    return (
        f"poll: every {format_duration(poll.interval)}, timeout {format_duration(poll.timeout)}, "
        f"at most {format_size(poll.max_bytes)} a feed, {poll.concurrency} feeds at once, "
        f"first fetch of a feed: {first}"
        + (f", user agent {poll.user_agent!r}" if poll.user_agent else "")
    )


def _feed(settings: Settings, feed: FeedSettings) -> str:
    parts = [_public_url(feed.url)]
    parts.append(
        f"every {format_duration(settings.feed_interval(feed))}" if feed.enabled else "disabled"
    )
    if feed.headers:  # names only: the values may be credentials
        parts.append("headers " + ", ".join(sorted(feed.headers)))
    text = ", ".join(parts)
    return f"{feed.name}: {text}" if feed.name else text


def _public_url(url: str) -> str:
    """A feed URL without user info, query or fragment (they may hold access tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"


def _watch(settings: Settings, watch: WatchSettings) -> str:
    parts = []
    if watch.keywords:
        parts.append("keywords " + _words(watch.keywords))
    if watch.query:
        query = watch.query.strip()
        shown = query if len(query) <= _QUERY_SHOWN else query[: _QUERY_SHOWN - 1] + "…"
        parts.append(f"query {shown!r}")
    if watch.exclude:
        parts.append("exclude " + _words(watch.exclude))
    if watch.languages:
        parts.append("languages " + ", ".join(watch.languages))
    parts.append("feeds " + (", ".join(watch.feeds) if watch.feeds is not None else "all"))
    parts.append("notify " + _notify(settings, watch))
    if watch.digest:
        parts.append(f"digest every {format_duration(watch.digest)}")
    return f"{watch.name}: " + "; ".join(parts)


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(f'"{w}"' if " " in w else w for w in words)


def _notify(settings: Settings, watch: WatchSettings) -> str:
    names = settings.watch_destinations(watch)
    shown = ", ".join(names) if names else "nobody"
    return f"{shown} (every destination)" if watch.notify is None and names else shown


def _stories(stories: StorySettings) -> str:
    if not stories.enabled:
        return "stories: off (every article is its own story)"
    return (
        f"stories: one alert per story; near-duplicates within "
        f"{format_duration(stories.window)} join it (threshold {stories.threshold:g})"
    )


def _health(health: HealthSettings) -> str:
    notify = ", ".join(health.notify) if health.notify else "nobody"
    return (
        f"health: notices to {notify}; a feed is failing after "
        f"{format_duration(health.failing_after)}, stale after "
        f"{format_duration(health.stale_after)}"
    )


def _destination(dest: Destination) -> str:
    return _destination_kind(dest) + _delivery(dest)


def _delivery(dest: Destination) -> str:
    """Rate, burst and digest, when set: the settings that change what a user receives."""
    parts = []
    if dest.rate is not None:
        count, period = dest.rate
        parts.append(f"at most {count} per {format_duration(period)}")
    if dest.burst is not None:
        parts.append(f"more than {dest.burst} waiting go as digests")
    if dest.digest is not None:
        parts.append(f"digest every {format_duration(dest.digest)}")
    return f"; {', '.join(parts)}" if parts else ""


def _destination_kind(dest: Destination) -> str:
    if isinstance(dest, SlackDestination):
        return f"{dest.name}: slack {redact_url(dest.url.get_secret_value())}"
    if isinstance(dest, WebhookDestination):
        extras = [redact_url(dest.url)]
        if dest.secret is not None:
            extras.append("signed")
        if dest.headers:
            extras.append("headers " + ", ".join(sorted(dest.headers)))
        return f"{dest.name}: webhook " + ", ".join(extras)
    if isinstance(dest, EmailDestination):
        login = ", with login" if dest.username or dest.password else ""
        return (
            f"{dest.name}: email to {', '.join(dest.to)} from {dest.sender} via "
            f"{dest.host}:{dest.effective_port} ({dest.security}){login}"
        )
    if isinstance(dest, AppriseDestination):
        # Only the services: the rest of an Apprise URL is its credential.
        shown = ", ".join(f"{scheme_of(url.get_secret_value())}://…" for url in dest.urls)
        return (
            f"{dest.name}: apprise {shown} ({dest.format}, timeout {format_duration(dest.timeout)})"
        )
    assert isinstance(dest, ConsoleDestination)
    return f"{dest.name}: console (standard output)"
