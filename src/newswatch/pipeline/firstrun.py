"""The ``poll.first_run`` rule (SPEC §2, README "What counts as new"), in one place for
the daemon's poll and for ``replay``: on a feed's first fetch, which new articles alert."""

from __future__ import annotations

from datetime import datetime

from newswatch.config import Settings


def alerts_on_first_fetch(published: datetime | None, settings: Settings, now: datetime) -> bool:
    """Whether an article published at ``published`` and met in its feed's first fetch
    at ``now`` may alert: ``all``, ``none``, or published within the duration."""
    first_run = settings.poll.first_run
    if first_run == "all":
        return True
    if first_run == "none":
        return False
    return published is not None and published >= now - first_run
