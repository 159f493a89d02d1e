"""The shape of ``watchlist.yaml``: validated, frozen settings (SPEC §3).

The loader turns YAML into plain data and reports pydantic's errors at the YAML
location they concern; this module only says what is valid.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, NamedTuple
from urllib.parse import urlsplit

import jinja2
import jinja2.sandbox
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Caps keep absurd values from overflowing timedelta/int conversions (an OverflowError
# would escape pydantic instead of becoming a located configuration problem).
_MAX_SECONDS = 100 * 365 * 86400
DEFAULT_RETENTION = timedelta(days=90)
MIN_RETENTION = timedelta(days=3)
_MAX_SIZE = 10**12
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}


def parse_duration(value: object) -> timedelta:
    """Parse ``30s``, ``5m``, ``1h30m``, ``2d``, ``500ms`` into a positive timedelta."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a duration needs a unit, e.g. '{value}s' or '5m' (units: ms s m h d w)")
    text = value.strip()
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip():
        raise ValueError(f"'{value}' is not a duration: write e.g. 30s, 5m, 1h30m, 1d")
    seconds = sum(float(n) * _DURATION_UNITS[u.lower()] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"duration '{value}' must be longer than zero")
    if seconds > _MAX_SECONDS:
        raise ValueError(f"duration '{value}' is too long: at most 100 years")
    return timedelta(seconds=seconds)


def parse_size(value: object) -> int:
    """Parse ``10MB``, ``512KiB``, ``1000000`` into a positive number of bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        number, unit = float(value), "b"
    elif isinstance(value, str) and (m := _SIZE.match(value)):
        number, unit = float(m.group(1)), (m.group(2) or "b").lower()
    else:
        raise ValueError(f"'{value}' is not a size: write e.g. 10MB, 512KiB or 1000000")
    if number * _SIZE_UNITS[unit] > _MAX_SIZE:
        raise ValueError(f"size '{value}' is too large: at most 1000GB")
    size = int(number * _SIZE_UNITS[unit])
    if size <= 0:
        raise ValueError(f"size '{value}' must be larger than zero")
    return size


def parse_first_run(value: object) -> timedelta | Literal["all", "none"]:
    """``all``, ``none`` or a duration."""
    if isinstance(value, str) and value.strip().lower() in ("all", "none"):
        return "all" if value.strip().lower() == "all" else "none"
    return parse_duration(value)


class Rate(NamedTuple):
    """At most ``messages`` messages in any ``period``."""

    messages: int
    period: timedelta


_RATE = re.compile(r"^\s*(\d{1,6})\s*/\s*(\S+)\s*$")
_RATE_UNITS = {"s": "1s", "sec": "1s", "second": "1s", "m": "1m", "min": "1m", "minute": "1m",
               "h": "1h", "hour": "1h", "d": "1d", "day": "1d"}  # fmt: skip


def parse_rate(value: object) -> Rate | None:
    """``1/s``, ``20/m``, ``100/h``, ``5/10s``; ``none`` for no limit."""
    if isinstance(value, Rate) or value is None:
        return value
    if isinstance(value, str) and value.strip().lower() in ("none", "unlimited"):
        return None
    match = _RATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"'{value}' is not a rate: write e.g. 1/s, 20/m, 100/h, 5/10s or none")
    count = int(match.group(1))
    if count <= 0:
        raise ValueError(f"rate '{value}' must allow at least one message")
    unit = match.group(2)
    period = parse_duration(_RATE_UNITS.get(unit.lower(), unit))
    return Rate(count, period)


def check_template(value: object) -> str:
    """A Jinja2 template that compiles (syntax errors are reported with their line)."""
    text = _text(value)
    try:
        jinja2.sandbox.ImmutableSandboxedEnvironment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"template error on its line {exc.lineno}: {exc.message}") from None
    return text


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{value}' is not an http(s) URL with a host")
    return value.strip()


def _not_bool(value: object) -> object:
    """Refuse true/false where a number is expected (pydantic would read true as 1)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, not {str(value).lower()}")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def parse_interval(value: object) -> timedelta:
    """A poll interval: a duration of at least one second (``5ms`` is a typo for ``5m``,
    not a setting to keep)."""
    interval = parse_duration(value)
    if interval < timedelta(seconds=1):
        raise ValueError(
            f"interval '{value}' is shorter than 1s: did you mean '{str(value).rstrip('sS')}'?"
            if str(value).strip().lower().endswith("ms")
            else f"interval '{value}' is shorter than 1s"
        )
    return interval


Interval = Annotated[timedelta, BeforeValidator(parse_interval)]
WholeNumber = Annotated[int, BeforeValidator(_not_bool)]
Size = Annotated[int, BeforeValidator(parse_size)]
HttpUrl = Annotated[str, BeforeValidator(lambda v: check_http_url(_text(v)))]
Name = Annotated[str, Field(min_length=1, max_length=200)]
RateLimit = Annotated[Rate | None, BeforeValidator(parse_rate)]
Template = Annotated[str, BeforeValidator(check_template)]


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a text value")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _header_value(value: str) -> str:
    """Text that can stand in an HTTP header: one line, no control characters."""
    if not value.strip():
        raise ValueError("must not be empty")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError("must be one line without control characters (it is sent as a header)")
    return value.strip()


def _header_name(value: str) -> str:
    """An HTTP header name (RFC 9110 token)."""
    if not _HEADER_NAME.fullmatch(value):
        raise ValueError(f"'{value}' is not an HTTP header name (letters, digits and -)")
    return value


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderSecret = Annotated[
    SecretStr, AfterValidator(lambda v: SecretStr(_header_value(v.get_secret_value())))
]


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


class FeedSettings(_Strict):
    """One feed to poll."""

    url: HttpUrl
    name: Name | None = None
    interval: Interval | None = None
    enabled: bool = True
    # Sent with every request of this feed; values may be credentials (masked, never logged).
    headers: dict[HeaderName, HeaderSecret] = Field(default_factory=dict)

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


class _Delivery(_Strict):
    """How alerts are delivered to a destination: shared by every destination type.

    ``rate`` caps messages per period; when more than ``burst`` alerts wait at once, they
    go as digests (one message per watch); ``digest`` batches every watch's alerts for a
    period; a failed delivery is retried after ``backoff`` (doubling, up to an hour) until
    ``max_attempts`` attempts failed or it has waited longer than ``max_age``.
    """

    rate: RateLimit = None
    burst: WholeNumber | None = Field(default=None, ge=1, le=100_000)
    digest: Duration | None = None
    max_attempts: WholeNumber = Field(default=12, ge=1, le=1000)
    max_age: Duration = timedelta(hours=24)
    backoff: Duration = timedelta(seconds=30)


class SlackDestination(_Delivery):
    """A Slack incoming webhook; its URL is the credential."""

    name: Name
    type: Literal["slack"]
    url: SecretStr
    rate: RateLimit = Rate(1, timedelta(seconds=1))  # Slack's own limit
    burst: WholeNumber | None = Field(default=10, ge=1, le=100_000)
    template: Template | None = None

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, v: SecretStr) -> SecretStr:
        check_http_url(v.get_secret_value())
        return v


class WebhookDestination(_Delivery):
    """Any HTTP endpoint that takes a JSON POST."""

    name: Name
    type: Literal["webhook"]
    url: HttpUrl
    secret: SecretStr | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)


def _mail_address(value: str) -> str:
    """An ASCII ``mailbox@domain``: newswatch does not speak SMTPUTF8, so an address that
    needs it would fail on every send; it is refused here, where it can be fixed."""
    if not value.isascii():
        raise ValueError(
            f"'{value}' has non-ASCII characters: use an ASCII mailbox and the domain's "
            "ASCII form (xn--…); newswatch does not send SMTPUTF8 mail"
        )
    return value


MailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$"), AfterValidator(_mail_address)]


class EmailDestination(_Delivery):
    """SMTP delivery."""

    name: Name
    type: Literal["email"]
    to: tuple[MailAddress, ...] = Field(min_length=1)
    sender: MailAddress = Field(alias="from")
    host: Name
    port: WholeNumber | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    # A private CA's certificates (PEM), relative to the config file; certificate and
    # host name checks stay on: there is no way to turn them off.
    tls_ca_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    timeout: Duration = timedelta(seconds=30)
    burst: WholeNumber | None = Field(default=10, ge=1, le=100_000)
    subject_template: Template | None = None
    text_template: Template | None = None
    html_template: Template | None = None

    @property
    def effective_port(self) -> int:
        """The configured port, else the usual one for ``security``."""
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]


class ConsoleDestination(_Delivery):
    """Prints alerts to standard output."""

    name: Name
    type: Literal["console"]
    template: Template | None = None


def _apprise_url(value: SecretStr) -> SecretStr:
    """A URL the apprise library can use (checked by apprise itself; imports it)."""
    from newswatch.config.appriseurls import apprise_problem

    problem = apprise_problem(value.get_secret_value())
    if problem is not None:
        raise ValueError(problem)
    return value


AppriseUrl = Annotated[SecretStr, AfterValidator(_apprise_url)]


class AppriseDestination(_Delivery):
    """Any service the apprise library reaches (Telegram, Discord, ntfy, Matrix, Teams...):
    one notification per alert or digest to every URL; the URLs are credentials."""

    name: Name
    type: Literal["apprise"]
    urls: tuple[AppriseUrl, ...] = Field(min_length=1)
    format: Literal["text", "markdown", "html"] = "text"
    timeout: Duration = timedelta(seconds=30)


Destination = Annotated[
    SlackDestination
    | WebhookDestination
    | EmailDestination
    | ConsoleDestination
    | AppriseDestination,
    Field(discriminator="type"),
]


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

    database: Path = Path("newswatch.db")
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
