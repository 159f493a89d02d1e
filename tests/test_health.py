"""Feed-health notices: one notice per change of a feed's health, through the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.config import HealthSettings, loads_config
from newswatch.health import Health, assess, change
from newswatch.models import FeedState
from newswatch.pipeline.once import run_once
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import WebhookReceiver

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SETTINGS = HealthSettings(failing_after=6 * HOUR, stale_after=timedelta(days=7))
HEALTHY = FeedState(
    url="https://f.example/rss", current_url="https://f.example/rss", last_new_item_at=T0
)
FAILING = replace(HEALTHY, error_streak=4, failing_since=T0, last_error="HTTP 503")


def test_failing_is_announced_only_after_failing_after() -> None:
    """A feed failing for less than failing_after is undecided; from then on, failing."""
    assert assess(FAILING, SETTINGS, T0 + 5 * HOUR) is None
    assert assess(FAILING, SETTINGS, T0 + 6 * HOUR) is Health.FAILING


def test_failing_notice_says_since_when_and_why() -> None:
    """The notice names the feed, how long it has failed, the streak and the last error."""
    new, notice = change(FAILING, "Wire", SETTINGS, T0 + 7 * HOUR)  # type: ignore[misc]
    assert new is Health.FAILING and notice is not None
    assert notice.title == "Wire has been failing for 7h"
    assert "4 polls in a row failed; the last error: HTTP 503" in notice.detail


def test_no_second_notice_for_the_same_health() -> None:
    """Once announced, the same health gives no further notice."""
    announced = replace(FAILING, health="failing")
    assert change(announced, "Wire", SETTINGS, T0 + 9 * HOUR) is None


def test_recovery_is_announced() -> None:
    """A feed announced failing that succeeds again gets a recovery notice."""
    recovered = replace(HEALTHY, health="failing")
    new, notice = change(recovered, "Wire", SETTINGS, T0 + HOUR)  # type: ignore[misc]
    assert (new, notice.title if notice else None) == (Health.OK, "Wire has recovered")


def test_short_failure_then_success_is_silent() -> None:
    """A failure shorter than failing_after was never announced: its end is not either."""
    assert change(HEALTHY, "Wire", SETTINGS, T0 + HOUR) is None


def test_stale_and_fresh_again() -> None:
    """No new item for stale_after is announced; new items again are too."""
    new, notice = change(HEALTHY, "Wire", SETTINGS, T0 + timedelta(days=8))  # type: ignore[misc]
    assert (new, notice.title if notice else None) == (
        Health.STALE,
        "Wire has had no new item for 8d",
    )
    fresh = replace(HEALTHY, health="stale", last_new_item_at=T0 + timedelta(days=9))
    new, notice = change(fresh, "Wire", SETTINGS, T0 + timedelta(days=9))  # type: ignore[misc]
    assert (new, notice.title if notice else None) == (Health.OK, "Wire has new items again")


def test_gone_is_announced() -> None:
    """A 410 is announced at once, whatever failing_after says."""
    gone = replace(HEALTHY, gone=True, error_streak=1, failing_since=T0)
    new, notice = change(gone, "Wire", SETTINGS, T0)  # type: ignore[misc]
    assert new is Health.GONE and notice is not None and "HTTP 410" in notice.title


# --- end to end: run --once with a moving clock -------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FeedServer, WebhookReceiver, Path]]:
    with FeedServer() as server, WebhookReceiver() as hook:
        yield server, hook, tmp_path


def run_at(
    world: tuple[FeedServer, WebhookReceiver, Path], when: datetime, notify: str = "[hook]"
) -> None:
    server, hook, tmp = world
    settings = loads_config(
        f"""\
database: {tmp / "state.db"}
poll: {{interval: 5m, first_run: all}}
feeds:
  - url: "{server.url("/rss")}"
    name: Wire
  - url: "{server.url("/gone")}"
    name: Old
watches: [{{name: w, keywords: [nothing-matches], notify: []}}]
health: {{notify: {notify}, failing_after: 6h}}
destinations: [{{name: hook, type: webhook, url: "{hook.url}"}}]
""",
        tmp / "w.yaml",
        {},
    )
    asyncio.run(run_once(settings, clock=lambda: when))


def notices(hook: WebhookReceiver) -> list[tuple[str, str]]:
    return [(r.json()["kind"], r.json()["article"]["title"]) for r in hook.requests]


def test_notices_through_the_outbox(world: tuple[FeedServer, WebhookReceiver, Path]) -> None:
    """410 at once; failing after failing_after, once; recovery once — each delivered to
    health.notify as a webhook POST with kind feed_health."""
    server, hook, _ = world
    server.add("/rss", b"oops", status=500)
    server.add("/gone", b"", status=410)
    run_at(world, T0)
    assert notices(hook) == [("feed_health", "Old is gone (HTTP 410)")]
    run_at(world, T0 + 5 * HOUR)
    run_at(world, T0 + 7 * HOUR)
    run_at(world, T0 + 14 * HOUR)
    assert notices(hook)[1:] == [("feed_health", "Wire has been failing for 7h")]
    server.add("/rss", rss("Wire", [Item("1", "Quiet", "https://n.example/1")]))
    run_at(world, T0 + 21 * HOUR)
    run_at(world, T0 + 22 * HOUR)
    assert notices(hook)[2:] == [("feed_health", "Wire has recovered")]
    assert server.count("/gone") == 1  # gone feeds are not polled again
    payload = hook.requests[1].json()
    assert payload["watch"] == "feed health" and payload["matched"] == []
    assert "HTTP 500" in payload["snippet"]


def test_no_destinations_means_no_notice_but_state_is_kept(
    world: tuple[FeedServer, WebhookReceiver, Path],
) -> None:
    """Without health.notify nothing is sent; adding it later does not replay old news."""
    server, hook, _ = world
    server.add("/rss", rss("Wire", []))
    server.add("/gone", b"", status=410)
    run_at(world, T0, notify="[]")
    run_at(world, T0 + HOUR)
    assert hook.requests == []
