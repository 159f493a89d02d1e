"""The long-running daemon: schedules polls, runs the delivery worker, reloads, stops cleanly.

apscheduler (3.x, AsyncIOScheduler) runs one date-triggered job per feed. The job only
starts the poll as a task of its own and returns, and the poll schedules its next run when
it is done, for the time the pipeline computed (interval, Retry-After, backoff): so the job
is never still running when its next run comes due (apscheduler would skip that run, and a
date-triggered job skipped once is gone for good). The watchdog checks that every feed has
a next run, and that none is overdue.
The delivery worker (``newswatch.delivery``: one lane task per destination) runs beside
the polls and is woken when a poll creates alerts. SIGHUP or a change
of the config file (or of an OPML file it names) on disk reloads; an invalid edit is
logged and the last good config keeps running. SIGTERM/SIGINT stop within about ten
seconds. No apscheduler object leaves this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from newswatch.app.clock import utcnow
from newswatch.app.sdnotify import SystemdNotifier
from newswatch.config import FeedSettings, Settings, load_config
from newswatch.errors import ConfigError
from newswatch.match import check_watchlist
from newswatch.outbox import DeliveryReport
from newswatch.pipeline.deliver import Deliverer
from newswatch.pipeline.poll import feed_context, poll_feed
from newswatch.pipeline.runtime import Runtime, open_runtime, prune, reconfigure
from newswatch.redact import redact_feed_url
from newswatch.store import Store
from newswatch.text import plural

if TYPE_CHECKING:
    from newswatch.app.metrics import Metrics, MetricsServer

log = logging.getLogger(__name__)

STOP_GRACE = 8.0  # seconds in-flight work may take to finish after SIGTERM
CONFIG_CHECK_EVERY = 1.0
FIRST_POLL_SPREAD = 5.0  # seconds over which the first polls of all feeds are spread
PRUNE_EVERY = 3600.0  # seconds between database prunes (retention)
GAUGE_EVERY = 5.0  # seconds between reads of the outbox for newswatch_outbox_pending
OVERDUE_GRACE = timedelta(seconds=120)  # a due poll not started this long after: stuck


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when an editor saves the file, in place or by atomic rename."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _config_signature(path: Path, opml: tuple[Path, ...]) -> tuple[object, ...] | None:
    """The config file's signature and its OPML files'; None while the config is missing."""
    main = _file_signature(path)
    return None if main is None else (main, *(_file_signature(file) for file in opml))


class Daemon:
    """``newswatch run``: everything that happens between start and stop."""

    def __init__(
        self,
        config_path: Path,
        settings: Settings,
        env: Mapping[str, str],
        *,
        stdout: TextIO | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config_path = config_path
        self.settings = settings
        self.env = env
        self.stdout = stdout
        self.clock = clock
        self.systemd = SystemdNotifier(
            env.get("NOTIFY_SOCKET"),
            env.get("WATCHDOG_USEC"),
            env.get("WATCHDOG_PID"),
            pid=os.getpid(),
        )
        self.rt: Runtime | None = None
        self.metrics: Metrics | None = None
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = asyncio.Event()
        self.reload_requested = asyncio.Event()
        self.deliverer: Deliverer | None = None
        self.polls_in_flight: dict[asyncio.Task[Any], tuple[str, float]] = {}
        self.due: dict[str, datetime] = {}  # feed URL -> when its next poll is to start
        self.gone: set[str] = set()  # feeds that answered 410: no longer polled
        self.rng = random.Random()  # noqa: S311 - scheduling jitter, not cryptography
        self._config_signature = _config_signature(config_path, settings.opml)

    # -- lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        """Run until SIGTERM/SIGINT; return after a clean stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload_requested.set)
        server = self._metrics_server()
        async with open_runtime(self.settings, clock=self.clock, stdout=self.stdout) as rt:
            self.rt = rt
            rt.presence.on_takeover = self._wake_delivery  # a dead instance's sends are due
            self.scheduler.start()
            self._schedule_all(self.settings.active_feeds)
            self.deliverer = Deliverer(rt, on_report=self._delivered)
            if server is not None:
                server.start()
            self.deliverer.start()
            tasks = [
                asyncio.create_task(self._config_watcher(), name="config-watch"),
                asyncio.create_task(self._watchdog(), name="watchdog"),
                asyncio.create_task(self._housekeeping(), name="prune"),
                asyncio.create_task(self._outbox_gauge(), name="outbox-gauge"),
            ]
            self.systemd.ready(status=self._status_line())
            log.info(
                "daemon started feeds=%d watches=%d destinations=%d",
                len(self.settings.feeds),
                len(self.settings.watches),
                len(self.settings.destinations),
            )
            await self.stopping.wait()
            await self._stop(tasks)
            if server is not None:
                server.stop()

    def _metrics_server(self) -> MetricsServer | None:
        """The /metrics and /healthz server when ``metrics.listen`` is set (bound now, so a
        port in use stops the start with a clear error)."""
        if self.settings.metrics is None:
            return None
        from newswatch.app.metrics import Metrics, MetricsServer

        self.metrics = Metrics()
        return MetricsServer(self.settings.metrics, self.metrics, self.health_problem)

    def _delivered(self, destination: str, report: DeliveryReport) -> None:
        if self.metrics is not None:
            self.metrics.delivered(destination, report)

    async def _stop(self, tasks: list[asyncio.Task[None]]) -> None:
        log.info("stopping: finishing work in flight (at most %.0f s)", STOP_GRACE)
        self.systemd.stopping()
        self.scheduler.shutdown(wait=False)
        in_flight = list(self.polls_in_flight)
        # Sends in flight finish (bounded) while polls in flight do; nothing new is sent.
        delivery = asyncio.create_task(self._stop_delivery(STOP_GRACE / 2))
        if in_flight:
            _, pending = await asyncio.wait(in_flight, timeout=STOP_GRACE / 2)
            for task in pending:
                task.cancel()
        await delivery
        _, pending_tasks = await asyncio.wait(tasks, timeout=STOP_GRACE / 2)
        for task in [*pending_tasks, *self.polls_in_flight]:
            task.cancel()
        await asyncio.gather(*tasks, *self.polls_in_flight, return_exceptions=True)
        log.info("stopped")

    async def _stop_delivery(self, grace: float) -> None:
        if self.deliverer is not None:
            await self.deliverer.stop(grace)

    def _wake_delivery(self) -> None:
        if self.deliverer is not None:
            self.deliverer.wake()

    def _status_line(self) -> str:
        return f"polling {len(self.settings.feeds)} feeds for {len(self.settings.watches)} watches"

    # -- polling ---------------------------------------------------------------------

    def _schedule(self, url: str, when: datetime) -> None:
        self.due[url] = when
        self.scheduler.add_job(
            self._start_poll,
            trigger=DateTrigger(run_date=when, timezone=UTC),
            args=[url],
            id=url,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )

    def _schedule_all(self, feeds: tuple[FeedSettings, ...]) -> None:
        """First polls at start, spread over a few seconds so they don't all fire at once."""
        now = self.clock()
        spread = min(FIRST_POLL_SPREAD, 0.5 * len(feeds))
        for feed in feeds:
            self._schedule(feed.url, now + timedelta(seconds=self.rng.uniform(0, spread)))

    def _jitter(self, feed: FeedSettings) -> timedelta:
        """Up to 10% of the interval (at most a minute) so polls of many feeds spread out."""
        interval = self.settings.feed_interval(feed).total_seconds()
        return timedelta(seconds=self.rng.uniform(0, min(interval * 0.1, 60.0)))

    async def _start_poll(self, url: str) -> None:
        """The scheduler's job: start the feed's poll and return at once. A poll of the
        feed already in flight (after a reload re-added the feed) schedules the next."""
        if self.stopping.is_set() or any(u == url for u, _ in self.polls_in_flight.values()):
            return
        task = asyncio.create_task(self._poll(url), name=f"poll {url}")
        self.polls_in_flight[task] = (url, time.monotonic())
        task.add_done_callback(self._poll_done)

    def _poll_done(self, task: asyncio.Task[None]) -> None:
        self.polls_in_flight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("poll task failed", exc_info=task.exception())

    async def _poll(self, url: str) -> None:
        """Poll the feed once, then schedule its next poll (now that this one is over)."""
        feed = next((f for f in self.settings.active_feeds if f.url == url), None)
        if feed is None or self.rt is None:
            return
        self.due.pop(url, None)
        next_at: datetime | None = None
        try:
            report = await poll_feed(self.rt, feed)
            if report.status == "gone":
                log.warning("feed gone (410): no longer polled %s", feed_context(feed))
                self.gone.add(url)
                return
            next_at = report.next_poll_at
            if self.metrics is not None:
                self.metrics.poll(feed.label, report, self.clock())
                self.metrics.alerted(report.alerted)
            if report.alerts:
                self._wake_delivery()
        finally:
            if url not in self.gone:
                self._reschedule(url, next_at)

    def _reschedule(self, url: str, when: datetime | None) -> None:
        """The feed's next poll at ``when``, else one interval from now; none once the
        daemon is stopping or a reload removed the feed."""
        feed = next((f for f in self.settings.active_feeds if f.url == url), None)
        if feed is None or self.stopping.is_set():
            return
        when = when or self.clock() + self.settings.feed_interval(feed)
        self._schedule(url, when + self._jitter(feed))

    # -- reload ----------------------------------------------------------------------

    async def _config_watcher(self) -> None:
        """Reload on SIGHUP, or when the file on disk changes (checked every second)."""
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.reload_requested.wait(), CONFIG_CHECK_EVERY)
            signature = _config_signature(self.config_path, self.settings.opml)
            by_signal = self.reload_requested.is_set()
            if by_signal or (signature is not None and signature != self._config_signature):
                self.reload_requested.clear()
                if not by_signal:
                    await asyncio.sleep(0.2)  # let an editor finish writing
                    signature = _config_signature(self.config_path, self.settings.opml)
                self._config_signature = signature
                await self.reload("SIGHUP" if by_signal else "file changed")
                # A reload may name other OPML files: watch those from now on.
                self._config_signature = _config_signature(self.config_path, self.settings.opml)

    async def reload(self, reason: str) -> bool:
        """Load the config again; apply it only if it is entirely valid."""
        log.info("reloading configuration reason=%s", reason)
        self.systemd.reloading(time.monotonic_ns() // 1000)
        try:
            settings = await asyncio.to_thread(
                load_config, self.config_path, self.env, checks=(check_watchlist,)
            )
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("config invalid, keeping the last good one: %s", problem)
            self.systemd.ready(status="config invalid: kept the last good one")
            return False
        except OSError as exc:
            log.error("config unreadable, keeping the last good one: %s", exc)
            self.systemd.ready(status="config unreadable: kept the last good one")
            return False
        await self._apply(settings)
        self.systemd.ready(status=self._status_line())
        return True

    async def _apply(self, settings: Settings) -> None:
        if settings.database != self.settings.database:
            log.warning(
                "database path changed: restart newswatch to use %s; keeping %s",
                settings.database,
                self.settings.database,
            )
            settings = settings.model_copy(update={"database": self.settings.database})
        assert self.rt is not None
        old_settings = self.settings
        await reconfigure(self.rt, settings, stdout=self.stdout)
        self.settings = settings
        old = {f.url for f in old_settings.active_feeds}
        new = {f.url for f in settings.active_feeds}
        for url in old - new:
            self.due.pop(url, None)
            with contextlib.suppress(Exception):
                self.scheduler.remove_job(url)
        self._schedule_all(tuple(f for f in settings.active_feeds if f.url not in old))
        log.info(
            "configuration reloaded feeds=%d (+%d -%d) watches=%d",
            len(new),
            len(new - old),
            len(old - new),
            len(settings.watches),
        )
        if self.deliverer is not None:
            self.deliverer.start()  # lanes for new destinations; all look again

    # -- housekeeping ----------------------------------------------------------------

    async def _housekeeping(self) -> None:
        """Prune the database at start and then every PRUNE_EVERY seconds."""
        while not self.stopping.is_set():
            assert self.rt is not None
            try:
                await prune(self.rt)
            except Exception:
                log.exception("pruning the database failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), PRUNE_EVERY)

    async def _outbox_gauge(self) -> None:
        """Keep ``newswatch_outbox_pending`` current (every ``GAUGE_EVERY`` seconds)."""
        while self.metrics is not None and not self.stopping.is_set():
            assert self.rt is not None
            try:
                counts = await self.rt.store.call(Store.pending_counts)
                self.metrics.set_pending(counts, (d.name for d in self.settings.destinations))
            except Exception:
                log.exception("reading the outbox for metrics failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), GAUGE_EVERY)

    # -- watchdog --------------------------------------------------------------------

    def overdue(self) -> list[str]:
        """Feeds whose polling makes no progress: a poll stuck past its deadline, a poll due
        longer than ``OVERDUE_GRACE`` ago that has not started, or a feed with no next poll
        (a feed that answered 410 is not polled on purpose)."""
        limit = self.settings.poll.timeout.total_seconds() + 90.0
        now = time.monotonic()
        running = {url: started for url, started in self.polls_in_flight.values()}
        late = self.clock() - OVERDUE_GRACE
        found = []
        for feed in self.settings.active_feeds:
            if feed.url in self.gone:
                continue
            if feed.url in running:
                stuck = now - running[feed.url] > limit
            else:
                stuck = self.due.get(feed.url, late) <= late
            if stuck:
                found.append(feed.url)
        return found

    def healthy(self) -> bool:
        """Polling makes progress: no feed is overdue (see :meth:`overdue`)."""
        return not self.overdue()

    def health_problem(self) -> str | None:
        """None while polling makes progress, else why not (for ``/healthz``); called from
        the metrics server's thread, so it only reads."""
        late = self.overdue()
        if not late:
            return None
        first = next((f for f in self.settings.feeds if f.url == late[0]), None)
        shown = first.label if first is not None else redact_feed_url(late[0])
        return f"{plural(len(late), 'feed')} overdue: {shown}" + (
            " and more" if len(late) > 1 else ""
        )

    async def _watchdog(self) -> None:
        interval = self.systemd.watchdog_interval
        if interval is None:
            return
        while not self.stopping.is_set():
            late = self.overdue()
            if not late:
                self.systemd.watchdog()
            else:
                log.error(
                    "polling is stuck: not petting the systemd watchdog feeds=%d first=%s",
                    len(late),
                    redact_feed_url(late[0]),
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), interval)


async def run_daemon(
    config_path: Path, settings: Settings, env: Mapping[str, str], *, stdout: TextIO | None = None
) -> None:
    """Entry point for ``newswatch run``."""
    await Daemon(config_path, settings, env, stdout=stdout).run()


__all__ = ["Daemon", "run_daemon", "utcnow"]
