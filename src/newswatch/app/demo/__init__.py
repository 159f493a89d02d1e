"""``newswatch demo``: the user's watchlist over bundled sample feeds served on 127.0.0.1.

Works with no network at all. The feeds are fictional outlets in English, Russian and
Belarusian carrying one story about leaked Belarusian documents, a syndicated copy of it
under a tracking-parameter link, an ice-hockey item the default watch excludes, and
unrelated news. Two passes show an alert arriving once, and nothing arriving twice.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import ClassVar, TextIO

from newswatch.config import ConsoleDestination, FeedSettings, Settings
from newswatch.pipeline.once import run_once

FEEDS = {
    "northern-ledger.xml": ("Northern Ledger", "application/rss+xml"),
    "vostok-daily.atom": ("Vostok Daily", "application/atom+xml"),
    "svaboda-demo.xml": ("Svabodny", "application/rss+xml"),
    "wire-digest.json": ("Wire Digest", "application/feed+json"),
}
_PLACEHOLDER = re.compile(r"\{(rfc822|iso):(\d+)\}")


def render_feed(template: str, now: datetime) -> bytes:
    """Fill ``{rfc822:N}`` / ``{iso:N}`` with the time N minutes before ``now``."""

    def fill(m: re.Match[str]) -> str:
        when = now - timedelta(minutes=int(m.group(2)))
        if m.group(1) == "rfc822":
            return format_datetime(when, usegmt=True)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    return _PLACEHOLDER.sub(fill, template).encode("utf-8")


def load_feeds(now: datetime) -> dict[str, tuple[bytes, str]]:
    """The bundled feeds, rendered for ``now``: name -> (body, content type)."""
    folder = resources.files(__package__) / "feeds"
    return {
        name: (render_feed((folder / name).read_text("utf-8"), now), ctype)
        for name, (_, ctype) in FEEDS.items()
    }


class _FeedHandler(BaseHTTPRequestHandler):
    feeds: ClassVar[dict[str, tuple[bytes, str]]] = {}

    def do_GET(self) -> None:
        name = self.path.removeprefix("/feeds/")
        if name not in self.feeds:
            self.send_error(404)
            return
        body, ctype = self.feeds[name]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the demo's output for alerts."""


@contextmanager
def serve_feeds(feeds: dict[str, tuple[bytes, str]]) -> Iterator[str]:
    """Serve ``feeds`` on 127.0.0.1 (a free port) with ETag/304; yield the base URL."""
    handler = type("Handler", (_FeedHandler,), {"feeds": feeds})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feeds/"
    finally:
        server.shutdown()
        server.server_close()


def demo_settings(user: Settings, base_url: str, database: Path) -> Settings:
    """The user's terms and watches, with the bundled feeds and a console destination.

    Watches keep their keywords, query and exclusions; their ``feeds`` and ``notify``
    lists are dropped because they name the user's own feeds and destinations.
    """
    return user.model_copy(
        update={
            "database": database,
            "feeds": tuple(
                FeedSettings(url=base_url + name, name=label) for name, (label, _) in FEEDS.items()
            ),
            "watches": tuple(
                w.model_copy(update={"feeds": None, "notify": None, "digest": None})
                for w in user.watches
            ),
            "destinations": (ConsoleDestination(name="terminal", type="console"),),
        }
    )


async def run_demo(
    user: Settings, *, clock: Callable[[], datetime], out: TextIO, keep: bool = False
) -> None:
    """Two passes over the bundled feeds: alerts print on the first, nothing on the second."""
    folder = Path(tempfile.mkdtemp(prefix="newswatch-demo-"))
    try:
        with serve_feeds(load_feeds(clock())) as base_url:
            settings = demo_settings(user, base_url, folder / "demo.db")
            out.write(
                f"newswatch demo: {len(settings.watches)} watches from {user.source} "
                f"over {len(FEEDS)} sample feeds served at {base_url}\n\n"
            )
            first = await run_once(settings, clock=clock, stdout=out)
            out.write(f"\nfirst pass: {first.describe()}\n")
            second = await run_once(settings, clock=clock, stdout=out)
            out.write(
                f"second pass: {second.describe()}\n"
                "  (feeds answered 304 Not Modified; nothing is ever alerted twice)\n"
            )
    finally:
        if keep:
            out.write(f"demo database kept in {folder}\n")
        else:
            shutil.rmtree(folder, ignore_errors=True)
