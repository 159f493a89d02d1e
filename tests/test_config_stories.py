"""The `stories:` section of watchlist.yaml: defaults, `off`, validation with locations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from newswatch.config import StorySettings, describe, loads_config
from newswatch.errors import ConfigError

SOURCE = Path("conf/w.yaml")


def stories(text: str) -> StorySettings:
    return loads_config(text, SOURCE, {}).stories


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        loads_config(text, SOURCE, {})
    return [f"{p.line}:{p.column}: {p.message}" for p in info.value.problems]


def test_default_is_on_with_72h_window() -> None:
    """Without a `stories:` key, grouping is on: 72 h window, threshold 0.5."""
    assert stories("feeds: []\n") == StorySettings(enabled=True, window=timedelta(hours=72))
    assert stories("feeds: []\n").threshold == 0.5


@pytest.mark.parametrize("text", ["stories: off", "stories: OFF", "stories: false"])
def test_off_turns_grouping_off(text: str) -> None:
    """`stories: off` (or false) disables story grouping."""
    assert stories(text).enabled is False


def test_mapping_sets_window_and_threshold() -> None:
    """`stories: {window, threshold}` is read as written."""
    got = stories("stories:\n  window: 24h\n  threshold: 0.7\n")
    assert (got.enabled, got.window, got.threshold) == (True, timedelta(hours=24), 0.7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stories: maybe\n", "1:10: stories: 'maybe' is not 'off', 'on' or a mapping"),
        ("stories:\n  windw: 1h\n", "2:3: stories: unknown key 'windw' (did you mean 'window'?)"),
        ("stories:\n  window: 5x\n", "2:11: stories.window: '5x' is not a duration"),
        ("stories:\n  threshold: 0.1\n", "2:14: stories.threshold: must be at least 0.3"),
        ("stories:\n  threshold: 2\n", "2:14: stories.threshold: must be at most 1"),
        ("stories:\n  threshold: true\n", "2:14: stories.threshold: expected a number, not true"),
        ("stories: [72h]\n", "1:10: stories: must be a mapping of keys and values, not a list"),
    ],
)
def test_bad_values_are_located_errors(text: str, expected: str) -> None:
    """Every mistake in `stories:` is a problem at its line and column."""
    (problem,) = problems(text)
    assert problem.startswith(expected), problem


def test_check_summary_names_the_setting() -> None:
    """`newswatch check` says whether stories are grouped, and how."""
    assert "stories: off" in describe(loads_config("stories: off\n", SOURCE, {}))
    summary = describe(loads_config("stories: {window: 12h, threshold: 0.6}\n", SOURCE, {}))
    assert "within 12h join it (threshold 0.6)" in summary
