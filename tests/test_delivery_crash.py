"""kill -9 of the daemon in the middle of a burst of 40 alerts to a slow receiver: after
a restart every alert is delivered, nothing recorded as sent is sent again, and the only
possible duplicate is the message in flight, under the same Idempotency-Key.
(`bench/kill9_bench.py` repeats this at many random points.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.crash import kill_during_burst

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("kill_after", "extra_delay"),
    [(1, 0.0), (17, 0.013), (33, 0.021)],
    ids=["early", "mid", "late"],
)
def test_kill_9_loses_nothing_and_duplicates_at_most_the_one_in_flight(
    tmp_path: Path, kill_after: int, extra_delay: float
) -> None:
    """All 40 alerts arrive; at most one arrives twice, and then with the same key."""
    result = kill_during_burst(tmp_path, kill_after=kill_after, extra_delay=extra_delay)
    assert result.distinct == result.alerts == 40
    assert sum(n - 1 for n in result.duplicates.values()) <= 1
    assert result.keys_match_bodies
    assert result.states == {"sent": 40}
    assert result.killed_after < 40  # the kill really landed in the middle of the burst
