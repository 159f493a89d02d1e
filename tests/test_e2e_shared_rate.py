"""A destination's ``rate`` holds across processes (SPEC §9), on both engines: two
``run --once`` deliver a backlog to one loopback webhook at once, and the receiver's
arrival times show the two together within the rate. Counts over windows with margins,
not tight timings.

The backlog is made first by one ``run --once`` whose first send is answered 503 with
``Retry-After: 1``: everything stays pending, and once the pause is over both processes
start on the same 30 messages (else the first to poll could send them all alone)."""

from __future__ import annotations

import bisect
import re
import time
from pathlib import Path

import pytest

from support.cli import newswatch
from support.receivers import Reply
from support.shared import two_at_once, world

pytestmark = pytest.mark.slow

RATE = 3  # messages a second
ALERTS = 30  # 6 feeds x 5 items


def busiest(times: list[float], width: float) -> int:
    """The most arrivals in any window [t, t + width)."""
    times = sorted(times)
    return max(bisect.bisect_left(times, t + width) - i for i, t in enumerate(times))


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_two_processes_together_keep_a_destinations_rate(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    """30 alerts, ``rate: 3/s``, two processes sending side by side (each sends some):
    any 2 s hold at most 6 arrivals (two more allowed for timing jitter at the window's
    edges; a limiter per process lets 12 and more through), and the 30 take at least 9 s
    (7.5 allowed; about 4.5 with a limiter per process)."""
    database = "state.db" if engine == "sqlite" else request.getfixturevalue("pg_url")
    with world(tmp_path, feeds=6, items=5, database=database, rate=f"{RATE}/s") as w:
        w.hook.script(Reply(503, {"Retry-After": "1"}))
        backlog = newswatch(w.config, "run", "--once")
        assert backlog.returncode == 0 and "Deliveries: 0 sent, 1 failed" in backlog.stderr
        w.hook.requests.clear()
        time.sleep(1.5)  # the destination's pause is over
        counted, errs = two_at_once(w)
        times = sorted(r.at for r in w.hook.requests)
    assert (counted.posts, counted.distinct) == (ALERTS, ALERTS), errs
    sent = [int(m.group(1)) for e in errs if (m := re.search(r"Deliveries: (\d+) sent", e))]
    assert len(sent) == 2 and min(sent) > 0 and sum(sent) == ALERTS, errs
    assert busiest(times, 2.0) <= 2 * RATE + 2, [round(t - times[0], 2) for t in times]
    assert times[-1] - times[0] >= 7.5
