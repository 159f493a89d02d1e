"""``run --once``: poll every feed once, deliver everything due, prune; the same pipeline
functions the daemon calls."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from newswatch.config import Settings
from newswatch.models import FetchStatus
from newswatch.outbox import DeliveryReport
from newswatch.pipeline.deliver import deliver_all
from newswatch.pipeline.poll import ELSEWHERE, PollReport, poll_feeds
from newswatch.pipeline.runtime import open_runtime, prune
from newswatch.text import plural


@dataclass(frozen=True, slots=True)
class OnceSummary:
    """What ``run --once`` did, for its closing line."""

    polls: tuple[PollReport, ...]
    delivery: DeliveryReport

    @property
    def outage(self) -> bool:
        """No feed could be fetched at all: every poll failed (none answered 200 or 304),
        so that cron or a systemd timer sees an outage (exit 1). Feeds that another
        newswatch on the database polls (or polled) are not this run's to judge."""
        fetched = {FetchStatus.OK.value, FetchStatus.NOT_MODIFIED.value}
        own = [p for p in self.polls if p.status != ELSEWHERE]
        return bool(own) and not any(p.status in fetched for p in own)

    def describe(self) -> str:
        """One line: feeds by outcome, new articles, alerts, deliveries."""
        by_status: dict[str, int] = defaultdict(int)
        for report in self.polls:
            by_status[report.status] += 1
        feeds = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(by_status.items()))
        d = self.delivery
        retried = " (will be retried)" if d.failed else ""
        return (
            f"polled {plural(len(self.polls), 'feed')} ({feeds or 'none'}); "
            f"{plural(sum(p.new_articles for p in self.polls), 'new article')}; "
            f"{plural(sum(p.alerts for p in self.polls), 'new alert')}. "
            f"Deliveries: {d.sent} sent, {d.failed} failed{retried}, {d.dead} dead"
        )


async def run_once(
    settings: Settings, *, clock: Callable[[], datetime], stdout: TextIO | None = None
) -> OnceSummary:
    """``run --once``: poll every enabled feed once, then deliver everything that is due."""
    async with open_runtime(settings, clock=clock, stdout=stdout) as rt:
        polls = await poll_feeds(rt, settings.active_feeds)
        delivery = await deliver_all(rt)
        await prune(rt)
    return OnceSummary(tuple(polls), delivery)
