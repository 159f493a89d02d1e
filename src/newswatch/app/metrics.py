"""Monitoring (SPEC §8): ``GET /metrics`` in Prometheus text format, made by the
``prometheus-client`` library, and ``GET /healthz``, on ``metrics.listen`` only.

The daemon reports what happens (``poll``, ``delivered``, ``pending``); scrapes read the
library's registry. The server runs in a thread of its own, so a slow scrape never holds
up the event loop. ``prometheus_client`` is imported only when this module is (the daemon
does that only when ``metrics.listen`` is set).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from newswatch.config import MetricsSettings
from newswatch.errors import NewswatchError
from newswatch.outbox import DeliveryReport
from newswatch.pipeline.poll import PollReport

log = logging.getLogger(__name__)

Health = Callable[[], str | None]  # None while healthy, else the reason
_OUTCOMES = {"ok": "ok", "not_modified": "not_modified"}  # any other status is an error


class Metrics:
    """The metrics of SPEC §8, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter(
            "newswatch_feed_polls", "Feed polls by outcome.", ["feed", "outcome"], registry=r
        )
        self.last_success = Gauge(
            "newswatch_feed_last_success_timestamp_seconds",
            "When the feed was last fetched successfully (200 or 304), Unix time.",
            ["feed"],
            registry=r,
        )
        self.articles = Counter(
            "newswatch_articles_new", "New articles stored.", ["feed"], registry=r
        )
        self.alerts = Counter("newswatch_alerts", "Alerts created.", ["watch"], registry=r)
        self.deliveries = Counter(
            "newswatch_deliveries",
            "Deliveries (alert x destination) by outcome.",
            ["destination", "outcome"],
            registry=r,
        )
        self.pending = Gauge(
            "newswatch_outbox_pending",
            "Deliveries waiting to be sent.",
            ["destination"],
            registry=r,
        )

    def poll(self, feed: str, report: PollReport, now: datetime) -> None:
        """One poll of ``feed`` (its configured name, else its redacted URL)."""
        if report.status == "skipped":
            return  # backing off or gone: no request was made
        outcome = _OUTCOMES.get(report.status, "error")
        self.polls.labels(feed=feed, outcome=outcome).inc()
        if outcome != "error":
            self.last_success.labels(feed=feed).set(now.timestamp())
        self.articles.labels(feed=feed).inc(report.new_articles)

    def alerted(self, watches: Iterable[str]) -> None:
        """Alerts created, one watch name per alert."""
        for watch in watches:
            self.alerts.labels(watch=watch).inc()

    def delivered(self, destination: str, report: DeliveryReport) -> None:
        """What one pass of a destination's lane did."""
        for outcome, count in (
            ("sent", report.sent),
            ("failed", report.failed),
            ("dead", report.dead),
        ):
            if count:
                self.deliveries.labels(destination=destination, outcome=outcome).inc(count)

    def set_pending(self, counts: Mapping[str, int], destinations: Iterable[str]) -> None:
        """The outbox as it is now: every configured destination gets a value (0 too)."""
        for name in destinations:
            self.pending.labels(destination=name).set(counts.get(name, 0))


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not events worth a log line."""


class MetricsServer:
    """``/metrics`` and ``/healthz`` on the configured address, in a thread."""

    def __init__(self, settings: MetricsSettings, metrics: Metrics, health: Health) -> None:
        self.settings = settings
        self.metrics = metrics
        self.health = health
        try:
            self._server = make_server(
                settings.host, settings.port, self._app, _Server, handler_class=_QuietHandler
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise NewswatchError(f"metrics: cannot listen on {settings.listen}: {reason}") from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()
        log.info("metrics listening address=%s", self.settings.listen)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: dict[str, Any], start: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start, "405 Method Not Allowed", b"GET only\n", "text/plain")
        if path == "/metrics":
            body = generate_latest(self.metrics.registry)
            return _answer(start, "200 OK", body, CONTENT_TYPE_LATEST)
        if path == "/healthz":
            reason = self.health()
            status = "200 OK" if reason is None else "503 Service Unavailable"
            doc = {"status": "ok"} if reason is None else {"status": "unhealthy", "reason": reason}
            return _answer(start, status, json.dumps(doc).encode(), "application/json")
        return _answer(start, "404 Not Found", b"try /metrics or /healthz\n", "text/plain")


def _answer(start: Callable[..., Any], status: str, body: bytes, ctype: str) -> list[bytes]:
    start(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
