"""``poll.lease``: how long a claim holds without renewal; it must outlast a poll."""

from __future__ import annotations

from datetime import timedelta

from newswatch.pipeline.runtime import claim_lease
from support.configs import load, problems


def test_the_lease_is_a_minute_by_default_and_is_the_claims_lease() -> None:
    """Without ``lease`` claims hold 1m; with it, what it says."""
    assert claim_lease(load("poll: {timeout: 30s}\n")) == timedelta(minutes=1)
    assert claim_lease(load("poll: {lease: 5m, timeout: 2m}\n")) == timedelta(minutes=5)


def test_without_a_lease_a_long_timeout_still_loads() -> None:
    """A configuration from before ``lease`` with a long timeout: its lease outlasts it."""
    assert claim_lease(load("poll: {timeout: 2m}\n")) == timedelta(minutes=2, seconds=30)


def test_a_lease_not_longer_than_the_timeout_is_a_config_error() -> None:
    """A poll that runs its whole timeout would lose its lease: refused at load."""
    (problem,) = problems("poll: {lease: 30s, timeout: 30s}\n")
    assert "lease (30s) must exceed timeout (30s)" in problem


def test_a_lease_shorter_than_a_few_renewals_is_a_config_error() -> None:
    """A lease must outlast several renewals (every 5 s)."""
    (problem,) = problems("poll: {lease: 5s, timeout: 2s}\n")
    assert "lease must be at least 15s" in problem
