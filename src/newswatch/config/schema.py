"""The shape of ``watchlist.yaml``: validated, frozen settings (SPEC §3).

The loader turns YAML into plain data and reports pydantic's errors at the YAML
location they concern; this module only says what is valid.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from newswatch.config.destinations import (
    AppriseDestination,
    ConsoleDestination,
    Destination,
    EmailDestination,
    MailAddress,
    SlackDestination,
    WebhookDestination,
)
from newswatch.config.fields import (
    DEFAULT_RETENTION,
    MIN_RETENTION,
    Database,
    Duration,
    HeaderName,
    HeaderSecret,
    HttpUrl,
    Interval,
    Name,
    Rate,
    Size,
    WholeNumber,
    _header_value,
    _Strict,
    check_http_url,
    check_template,
    parse_duration,
    parse_first_run,
    parse_interval,
    parse_rate,
    parse_size,
)
from newswatch.redact import redact_feed_url

__all__ = [
    "AppriseDestination",
    "ConsoleDestination",
    "Destination",
    "EmailDestination",
    "FeedSettings",
    "HealthSettings",
    "MailAddress",
    "MetricsSettings",
    "PollSettings",
    "Rate",
    "Settings",
    "SlackDestination",
    "StorySettings",
    "WatchSettings",
    "WebhookDestination",
    "check_http_url",
    "check_template",
    "parse_duration",
    "parse_first_run",
    "parse_interval",
    "parse_rate",
    "parse_size",
]


# A lease is renewed every few seconds (``pipeline.runtime.HEARTBEAT``): a shorter one
# could end between two renewals of a process at work.
MIN_LEASE = timedelta(seconds=15)


def _seconds(value: timedelta) -> str:
    return f"{value.total_seconds():g}s"


class PollSettings(_Strict):
    """Defaults for fetching every feed."""

    interval: Interval = timedelta(minutes=5)
    timeout: Duration = timedelta(seconds=30)
    max_bytes: Size = 10 * 10**6
    concurrency: WholeNumber = Field(default=32, ge=1, le=1000)
    first_run: Annotated[timedelta | Literal["all", "none"], BeforeValidator(parse_first_run)] = (
        timedelta(hours=24)
    )
    user_agent: Annotated[str, AfterValidator(_header_value)] | None = None
    # How long an instance's claims (a feed's poll lease, a message's send) hold without
    # renewal: others take a dead instance's feeds over after it (SPEC §9). None: see
    # ``claim_lease``.
    lease: Duration | None = None

    @property
    def claim_lease(self) -> timedelta:
        """``lease`` as given, else 1m, or ``timeout`` + 30s when that is longer (so a
        configuration written before there was a ``lease`` stays valid)."""
        if self.lease is not None:
            return self.lease
        return max(timedelta(minutes=1), self.timeout + timedelta(seconds=30))

    @model_validator(mode="after")
    def _lease_outlasts_a_poll(self) -> PollSettings:
        if self.lease is None:
            return self
        if self.lease <= self.timeout:
            raise ValueError(
                f"lease ({_seconds(self.lease)}) must exceed timeout ({_seconds(self.timeout)}):"
                " a poll that takes its whole timeout must not lose its lease"
            )
        if self.lease < MIN_LEASE:
            raise ValueError(f"lease must be at least {_seconds(MIN_LEASE)}")
        return self


class FeedSettings(_Strict):
    """One feed to poll."""

    url: HttpUrl
    name: Name | None = None
    interval: Interval | None = None
    enabled: bool = True
    # Sent with every request of this feed; values may be credentials (masked, never logged).
    headers: dict[HeaderName, HeaderSecret] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        """How logs and metrics name the feed: its configured name, else its URL without
        user info or query (which may hold credentials)."""
        return self.name or redact_feed_url(self.url)

    def plain_headers(self) -> dict[str, str]:
        """The headers to send, secrets revealed (only the fetcher sees this)."""
        return {name: value.get_secret_value() for name, value in self.headers.items()}


class WatchSettings(_Strict):
    """One watch: what to look for, where, and whom to tell."""

    name: Name
    keywords: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    query: str | None = None
    exclude: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    languages: tuple[str, ...] = ()
    feeds: tuple[str, ...] | None = None
    notify: tuple[str, ...] | None = None
    digest: Duration | None = None

    @model_validator(mode="after")
    def _needs_something_to_match(self) -> WatchSettings:
        if not self.keywords and not (self.query and self.query.strip()):
            raise ValueError("needs 'keywords' or 'query' (or both): say what to look for")
        return self


class HealthSettings(_Strict):
    """Who hears about broken or stale feeds."""

    notify: tuple[str, ...] = ()
    failing_after: Duration = timedelta(hours=6)
    stale_after: Duration = timedelta(days=7)


def _stories_switch(value: object) -> object:
    """``stories: off`` (or ``false``) turns story grouping off; ``on``/``true`` is the
    default; otherwise a mapping."""
    if isinstance(value, bool):
        return {} if value else {"enabled": False}
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("on", "off"):
            return {} if word == "on" else {"enabled": False}
        raise ValueError(
            f"'{value}' is not 'off', 'on' or a mapping such as {{window: 72h, threshold: 0.5}}"
        )
    return value


def _not_bool_number(value: object) -> object:
    """Refuse true/false where a decimal number is expected."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {str(value).lower()}")
    return value


class StorySettings(_Strict):
    """Recognising the same story across outlets (SPEC §4)."""

    enabled: bool = True
    window: Duration = timedelta(hours=72)
    threshold: Annotated[float, BeforeValidator(_not_bool_number)] = Field(
        default=0.5, ge=0.3, le=1.0
    )


def _listen_address(value: object) -> object:
    """``HOST:PORT`` (``[::1]:9184`` for IPv6); port 0 takes any free port."""
    text = str(value).strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"'{text}' is not HOST:PORT, e.g. 127.0.0.1:9184")
    return text


class MetricsSettings(_Strict):
    """The daemon's monitoring endpoint: GET /metrics (Prometheus) and GET /healthz."""

    listen: Annotated[str, BeforeValidator(_listen_address)]

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class Settings(_Strict):
    """The whole validated configuration."""

    database: Database = Path("newswatch.db")
    poll: PollSettings = PollSettings()
    terms: dict[
        str, Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]
    ] = Field(default_factory=dict)
    # OPML files whose feeds join ``feeds`` at load (the loader reads and merges them).
    opml: tuple[Path, ...] = ()
    feeds: tuple[FeedSettings, ...] = ()
    watches: tuple[WatchSettings, ...] = ()
    health: HealthSettings = HealthSettings()
    stories: Annotated[StorySettings, BeforeValidator(_stories_switch)] = StorySettings()
    retention: Duration = DEFAULT_RETENTION
    destinations: tuple[Destination, ...] = ()
    metrics: MetricsSettings | None = None
    source: Path = Field(default=Path("watchlist.yaml"), exclude=True)

    @field_validator("retention")
    @classmethod
    def _retention_covers_dedup(cls, value: timedelta) -> timedelta:
        if value < MIN_RETENTION:
            raise ValueError(
                "must be at least 3d: stories are recognised as near-duplicates for 72 hours"
            )
        return value

    def destination(self, name: str) -> Destination:
        """The destination called ``name``."""
        for dest in self.destinations:
            if dest.name == name:
                return dest
        raise KeyError(name)

    @property
    def active_feeds(self) -> tuple[FeedSettings, ...]:
        """The feeds that are polled: every feed but those with ``enabled: false``."""
        return tuple(feed for feed in self.feeds if feed.enabled)

    def feed_interval(self, feed: FeedSettings) -> timedelta:
        """The poll interval of ``feed``."""
        return feed.interval or self.poll.interval

    def digest_window(self, watch: str, destination: str) -> timedelta | None:
        """How long alerts of ``watch`` for ``destination`` are collected into one message:
        the watch's ``digest``, else the destination's, else None (sent one by one)."""
        found = next((w for w in self.watches if w.name == watch), None)
        if found is not None and found.digest is not None:
            return found.digest
        dest = next((d for d in self.destinations if d.name == destination), None)
        return dest.digest if dest is not None else None

    def watch_covers(self, watch: WatchSettings, feed_url: str) -> bool:
        """Whether ``watch`` applies to articles of the feed at ``feed_url``: its ``feeds:``
        list names the feed by URL or by configured name (a feed no longer configured can
        only be named by its URL)."""
        if watch.feeds is None or feed_url in watch.feeds:
            return True
        feed = next((f for f in self.feeds if f.url == feed_url), None)
        return feed is not None and feed.name is not None and feed.name in watch.feeds

    def watch_destinations(self, watch: WatchSettings) -> tuple[str, ...]:
        """The destinations ``watch`` notifies (default: every destination)."""
        if watch.notify is not None:
            return watch.notify
        return tuple(d.name for d in self.destinations)
