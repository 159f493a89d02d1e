"""How long to wait: the one backoff rule, the one ``Retry-After`` reading and the one
6 h cap, shared by polling (feed servers) and delivery (destinations) (SPEC §3, §6).

Standard library only; it sits in the lowest layer with ``models`` and ``errors``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_WAIT = timedelta(hours=6)  # SPEC §3/§6: no wait, backoff or Retry-After, is longer
MAX_RETRY_AFTER = MAX_WAIT.total_seconds()
_DELAY_SECONDS = re.compile(r"\d{1,12}(\.\d{1,6})?")


def http_date(text: str | None) -> datetime | None:
    """An HTTP-date as an aware datetime (a zone-less date counts as UTC), or None."""
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def parse_retry_after(
    value: str | None, reference: datetime | None, cap: float = MAX_RETRY_AFTER
) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP-date), within
    [0, cap]. An HTTP-date is measured from ``reference`` (the response's own ``Date`` is
    immune to clock skew); without a reference it cannot be used. None when the header is
    absent or unreadable; a date in the past gives 0."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if _DELAY_SECONDS.fullmatch(text):
        seconds = float(text)
    else:
        when = http_date(text)
        if when is None or reference is None:
            return None
        seconds = (when - reference).total_seconds()
    return min(max(seconds, 0.0), cap)


def backoff(base: timedelta, streak: int, cap: timedelta = MAX_WAIT) -> timedelta:
    """``base`` doubled for each failure after the first of ``streak`` consecutive ones,
    at most ``cap``."""
    factor: int = 2 ** min(max(streak - 1, 0), 20)
    return min(base * factor, cap)


def capped(wait: timedelta, floor: timedelta = timedelta(0)) -> timedelta:
    """``wait`` within [``floor``, 6 h]."""
    return min(max(wait, floor), MAX_WAIT)
