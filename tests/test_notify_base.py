"""What the HTTP notifiers share: reading a Retry-After answer (re-exported by notify)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newswatch.notify import parse_retry_after


@pytest.mark.parametrize(
    ("value", "reference", "seconds"),
    [
        ("120", None, 120.0),
        ("0", None, 0.0),
        (" 30 ", None, 30.0),
        ("1.5", None, 1.5),
        ("99999999", None, 21600.0),
        ("-5", None, None),
        ("soon", None, None),
        ("", None, None),
        (None, None, None),
        ("Wed, 21 Oct 2026 07:30:00 GMT", datetime(2026, 10, 21, 7, 28, tzinfo=UTC), 120.0),
        ("Wed, 21 Oct 2026 07:30:00 GMT", datetime(2026, 10, 21, 8, 0, tzinfo=UTC), 0.0),
        ("Wed, 21 Oct 2026 07:30:00 GMT", datetime(2026, 10, 1, 0, 0, tzinfo=UTC), 21600.0),
        ("Wed, 21 Oct 2026 07:30:00 GMT", None, None),
    ],
)
def test_parse_retry_after(
    value: str | None, reference: datetime | None, seconds: float | None
) -> None:
    """Delay-seconds or HTTP-date (from a reference time), clamped to [0, 6 h]."""
    assert parse_retry_after(value, reference=reference) == seconds
