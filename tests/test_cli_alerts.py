"""`newswatch alerts`: destination, state, attempts, next attempt, last error, pauses."""

from __future__ import annotations

import asyncio
from pathlib import Path

from newswatch.config import load_config
from newswatch.pipeline.deliver import deliver_all
from support.cli import newswatch
from support.outbox import runtime, seed
from support.receivers import Reply, WebhookReceiver


def test_alerts_lists_delivery_state_and_paused_destinations(tmp_path: Path) -> None:
    """A delivery that failed is listed pending with its attempts, next attempt and error,
    and its paused destination is named below."""
    with WebhookReceiver(default=Reply(503, {"Retry-After": "3600"})) as hook:
        config = tmp_path / "watchlist.yaml"
        config.write_text(
            "database: state.db\n"
            "feeds: [{url: 'https://wire.example/rss'}]\n"
            "watches: [{name: belarus, keywords: [Lukashenko]}]\n"
            f"destinations: [{{name: hook, type: webhook, url: '{hook.url}'}}]\n"
        )
        settings = load_config(config, {})
        (alert_id,) = seed(settings, 1)

        async def once() -> None:
            async with runtime(settings) as rt:
                await deliver_all(rt)

        asyncio.run(once())
    result = newswatch(config, "alerts")
    assert result.returncode == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    assert first.startswith(alert_id) and "pending" in first and "hook" in first
    assert "attempts=1" in first and "next=" in first
    assert any("last error: HTTP 503" in line for line in rest)
    assert any(line.startswith("destination hook paused until") for line in rest)
    assert "s3cr3t-token" not in result.stdout
