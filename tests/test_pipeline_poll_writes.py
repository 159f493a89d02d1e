"""One poll is one write transaction (DESIGN rule 4) after its claim on the feed (a short
write of its own, which others must see before the fetch), measured on a real SQLite
file: store trips counted by ``AsyncStore.trips``, writes by tracing ``BEGIN IMMEDIATE``."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.config import Settings
from newswatch.pipeline.poll import PollReport, poll_feed
from newswatch.pipeline.runtime import Runtime, open_runtime
from newswatch.store import SQLiteStore
from support.feeds import Item, rss
from support.feedserver import FeedServer

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def trace_writes(store: SQLiteStore, begins: list[str]) -> None:
    """Collect every ``BEGIN IMMEDIATE`` the store's connection runs (in its thread)."""
    store.db.conn.set_trace_callback(
        lambda sql: begins.append(sql) if sql.startswith("BEGIN IMMEDIATE") else None
    )


async def measured(rt: Runtime, settings: Settings) -> tuple[PollReport, int, int]:
    """Poll the one feed; return its report, the store trips and the write transactions."""
    begins: list[str] = []
    await rt.store.call(trace_writes, begins)
    trips = rt.store.trips
    report = await poll_feed(rt, settings.feeds[0])
    return report, rt.store.trips - trips, len(begins)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def settings(tmp_path: Path, server: FeedServer) -> Settings:
    return Settings(
        database=tmp_path / "nw.db",
        poll={"first_run": "all", "timeout": "5s"},
        feeds=[{"url": server.url("/rss"), "name": "Wire"}],
        watches=[{"name": "w", "keywords": ["Lukashenko"]}],
        destinations=[{"name": "out", "type": "console"}],
        health={"notify": ["out"], "failing_after": "1h"},
    )


def polls(s: Settings, at: list[datetime]) -> list[tuple[PollReport, int, int]]:
    """Poll once at each of ``at`` through one runtime, measuring each poll."""

    async def go() -> list[tuple[PollReport, int, int]]:
        now = [at[0]]
        async with open_runtime(s, clock=lambda: now[0], stdout=io.StringIO()) as rt:
            found = []
            for when in at:
                now[0] = when
                found.append(await measured(rt, s))
            return found

    return asyncio.run(go())


def test_failed_poll_is_two_trips_a_claim_and_one_write_with_its_health_notice(
    tmp_path: Path, server: FeedServer
) -> None:
    """A failure (claim_feed, commit_fetch) records the feed state and, once failing
    for failing_after, the notice too, in the same single write after the claim (was 4
    trips, 2 writes before the claims)."""
    server.add("/rss", b"oops", status=500)
    first, second = polls(settings(tmp_path, server), [T0, T0 + timedelta(hours=2)])
    assert (first[0].status, first[0].alerts, first[1:]) == ("failed", 0, (2, 2))
    assert (second[0].status, second[0].alerts, second[1:]) == ("failed", 1, (2, 2))


def test_successful_poll_is_three_trips_a_claim_and_one_write_with_its_health_notice(
    tmp_path: Path, server: FeedServer
) -> None:
    """A parsed poll (claim_feed, unseen, commit_poll) commits the document, the new
    article, its alert, the feed state and the recovery notice in one write after the
    claim (was 6 trips, 3 writes)."""
    server.add("/rss", b"oops", status=500)
    s = settings(tmp_path, server)
    polls(s, [T0, T0 + timedelta(hours=2)])  # announced failing
    server.add("/rss", rss("Wire", [Item("1", "Lukashenko", "https://n.example/1")]))
    ((report, trips, writes),) = polls(s, [T0 + timedelta(hours=3)])
    assert (report.status, report.new_articles, report.alerts) == ("ok", 1, 2)
    assert (trips, writes) == (3, 2)
    with SQLiteStore(s.database) as store:
        kinds = store.db.execute("SELECT kind FROM alerts ORDER BY rowid").fetchall()
        assert [k for (k,) in kinds] == ["health", "article", "health"]
        assert store.feed_state(s.feeds[0].url).health == "ok"
