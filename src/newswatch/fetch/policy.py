"""The one status policy: what an HTTP status code, or a failure, means for a feed.

``classify`` is the only place HTTP outcomes are decided (DESIGN rule 7); the fetcher asks
it about every response of a redirect chain and about every failure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from newswatch.fetch.failures import describe
from newswatch.models import FetchStatus

__all__ = ["Decision", "Redirect", "classify", "parse_max_age"]


class Redirect(enum.StrEnum):
    """The kind of a redirect response: permanent moves are remembered, temporary ones not."""

    PERMANENT = "permanent"  # 301, 308
    TEMPORARY = "temporary"  # 302, 303, 307


@dataclass(frozen=True, slots=True)
class Decision:
    """What the status policy says about one response or failure.

    When ``redirect`` is set the caller follows ``Location``; ``status`` and ``error`` are
    then what to report if the redirect cannot be followed.
    """

    status: FetchStatus
    error: str | None = None
    redirect: Redirect | None = None


_REDIRECTS = {
    301: Redirect.PERMANENT,
    308: Redirect.PERMANENT,
    302: Redirect.TEMPORARY,
    303: Redirect.TEMPORARY,
    307: Redirect.TEMPORARY,
}


def classify(outcome: int | BaseException, *, empty_body: bool = False) -> Decision:
    """The one status policy: map an HTTP status code, or an exception, to a ``Decision``."""
    if isinstance(outcome, BaseException):
        return Decision(FetchStatus.FAILED, describe(outcome))
    code = outcome
    if code in _REDIRECTS:
        return Decision(FetchStatus.FAILED, f"HTTP {code} without a Location", _REDIRECTS[code])
    if code == 304:
        return Decision(FetchStatus.NOT_MODIFIED)
    if 200 <= code < 300:
        if empty_body or code == 204:
            return Decision(FetchStatus.FAILED, "empty body")
        return Decision(FetchStatus.OK)
    if code == 410:
        return Decision(FetchStatus.GONE, "HTTP 410 (gone)")
    if code in (429, 503):
        return Decision(FetchStatus.RETRY_LATER, f"HTTP {code}")
    return Decision(FetchStatus.FAILED, f"HTTP {code}")


def parse_max_age(cache_control: str | None) -> float | None:
    """``max-age`` seconds from a ``Cache-Control`` header, or None."""
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        value = value.strip().strip('"')
        if name.strip().lower() == "max-age" and value.isascii() and value.isdigit():
            return float(value)
    return None
