"""Parse jobs for WorkerPool tests; importable by worker processes (tests/ is on sys.path)."""

from __future__ import annotations

import time
from pathlib import Path

from newswatch.models import ParsedFeed


def scripted_job(body: bytes, *, feed_url: str, content_type: str) -> ParsedFeed:
    """``stuck``: sleep (no CPU, so the CPU timer never fires) until killed.
    ``once:PATH``: the first time (PATH missing) create PATH and sleep until killed;
    afterwards return at once. ``nap...``: take 0.1 s. Anything else: return at once."""
    text = body.decode()
    if text.startswith("nap"):
        time.sleep(0.1)
    if text == "stuck":
        time.sleep(600)
    if text.startswith("once:"):
        marker = Path(text.removeprefix("once:"))
        if not marker.exists():
            marker.touch()
            time.sleep(600)
    return ParsedFeed(title=text, articles=())
