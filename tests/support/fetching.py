"""Shared helpers for the fetcher's tests: a Fetcher on a fresh event loop, one GET."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from newswatch.fetch import Fetcher
from newswatch.models import FetchResult

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PUBLIC = "http://93.184.216.34"  # an IP literal: redirect checks need no DNS
FEED = f"{PUBLIC}/feed.xml"
RSS = b"<rss version='2.0'><channel><title>t</title></channel></rss>"

T = TypeVar("T")


def run(factory: Callable[[Fetcher], Awaitable[T]], **options: Any) -> T:
    """Run ``factory(fetcher)`` on a fresh event loop with a Fetcher built from ``options``."""

    async def main() -> T:
        settings: dict[str, Any] = {"timeout": 5.0, "max_bytes": 1_000_000, "clock": lambda: NOW}
        settings.update(options)
        async with Fetcher(**settings) as fetcher:
            return await factory(fetcher)

    return asyncio.run(main())


def get(url: str = FEED, **options: Any) -> FetchResult:
    """Fetch one URL with default settings (``etag``/``last_modified`` go to fetch)."""
    conditional = {k: options.pop(k) for k in ("etag", "last_modified") if k in options}
    return run(lambda f: f.fetch(url, **conditional), **options)


class Chunks(httpx.AsyncByteStream):
    """A response body streamed in chunks (httpx decodes a bytes ``content`` eagerly)."""

    def __init__(self, data: bytes, size: int = 1 << 16) -> None:
        self.data = data
        self.size = size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), self.size):
            yield self.data[start : start + self.size]
