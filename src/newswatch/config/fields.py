"""The value types of ``watchlist.yaml``: durations, sizes, rates, URLs, templates, header
names and values — each a parser that turns what a user writes into a checked value, or a
ValueError that says what to write instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    PlainValidator,
    SecretStr,
)
from pydantic_core import PydanticCustomError

from newswatch.redact import redact_dsn

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


@dataclass(frozen=True, slots=True)
class PostgresUrl:
    """``database:`` as a PostgreSQL URL (SPEC §9). Shown (``str``, ``repr``) with its
    password masked; only the store reads ``secret``. A password may also come from
    ``$PGPASSWORD``, which libpq reads itself."""

    secret: str

    def __str__(self) -> str:
        return redact_dsn(self.secret)

    def __repr__(self) -> str:
        return f"PostgresUrl({self})"


def parse_database(value: object) -> Path | PostgresUrl:
    """A ``postgresql://`` (or ``postgres://``) URL is a PostgreSQL database; anything
    else is the path of an SQLite file."""
    if isinstance(value, Path | PostgresUrl):
        return value
    if not isinstance(value, str):  # worded as pydantic's own path errors are
        raise PydanticCustomError("path_type", "Input is not a valid path")
    if value.startswith(("postgresql://", "postgres://")):
        try:
            urlsplit(value).port  # noqa: B018 (raises on a bad port)
        except ValueError as exc:
            raise ValueError(f"is not a valid PostgreSQL URL ({redact_dsn(value)})") from exc
        return PostgresUrl(value)
    return Path(value)


Database = Annotated[Path | PostgresUrl, PlainValidator(parse_database)]
