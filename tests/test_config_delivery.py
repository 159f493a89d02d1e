"""Delivery settings of destinations: rate, burst, digest, retry limits."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from newswatch.config import Rate, Settings, loads_config, parse_rate
from newswatch.errors import ConfigError


def load(tmp_path: Path, destination: str, watch: str = "") -> Settings:
    text = (
        "watches:\n"
        f"  - {{name: belarus, keywords: [Lukashenko]{watch}}}\n"
        "destinations:\n"
        f"  - {destination}\n"
    )
    return loads_config(text, tmp_path / "w.yaml", {})


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("1/s", Rate(1, timedelta(seconds=1))),
        ("20/m", Rate(20, timedelta(minutes=1))),
        ("100 / hour", Rate(100, timedelta(hours=1))),
        ("5/10s", Rate(5, timedelta(seconds=10))),
        ("none", None),
    ],
)
def test_parse_rate(text: str, rate: Rate | None) -> None:
    """Rates are N/unit or N/duration; `none` means no limit."""
    assert parse_rate(text) == rate


def test_defaults_slack_one_a_second_with_a_burst_cap(tmp_path: Path) -> None:
    """Slack defaults to 1/s and a burst of 10; webhooks have no limit; all retry 12 times
    for up to 24 h."""
    slack = load(tmp_path, "{name: c, type: slack, url: 'https://h.example/x'}").destinations[0]
    hook = load(tmp_path, "{name: h, type: webhook, url: 'https://h.example/x'}").destinations[0]
    assert (slack.rate, slack.burst) == (Rate(1, timedelta(seconds=1)), 10)
    assert (hook.rate, hook.burst, hook.digest) == (None, None, None)
    assert (hook.max_attempts, hook.max_age, hook.backoff) == (
        12,
        timedelta(hours=24),
        timedelta(seconds=30),
    )


def test_delivery_keys_are_read(tmp_path: Path) -> None:
    """rate, burst, digest, max_attempts, max_age and backoff are set per destination."""
    settings = load(
        tmp_path,
        "{name: h, type: webhook, url: 'https://h.example/x', rate: 30/m, burst: 50, "
        "digest: 15m, max_attempts: 3, max_age: 2h, backoff: 5s}",
    )
    dest = settings.destinations[0]
    assert dest.rate == Rate(30, timedelta(minutes=1)) and dest.burst == 50
    assert (dest.max_attempts, dest.max_age, dest.backoff) == (
        3,
        timedelta(hours=2),
        timedelta(seconds=5),
    )
    assert settings.digest_window("belarus", "h") == timedelta(minutes=15)


def test_watch_digest_wins_over_destination_digest(tmp_path: Path) -> None:
    """A watch's own digest period is used before its destination's."""
    settings = load(
        tmp_path,
        "{name: h, type: webhook, url: 'https://h.example/x', digest: 15m}",
        watch=", digest: 1h",
    )
    assert settings.digest_window("belarus", "h") == timedelta(hours=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("rate: fast", "'fast' is not a rate"),
        ("rate: 0/s", "at least one message"),
        ("rate: 1/fortnight", "not a duration"),
        ("burst: 0", "must be at least 1"),
        ("max_attempts: 0", "must be at least 1"),
        ("max_age: soon", "not a duration"),
    ],
)
def test_bad_delivery_values_are_located_errors(tmp_path: Path, value: str, message: str) -> None:
    """Each bad value is reported at its place with a plain message."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"{{name: h, type: webhook, url: 'https://h.example/x', {value}}}")
    (problem,) = caught.value.problems
    assert message in problem.message and problem.line == 4
    assert problem.message.startswith("destination 'h': ")
