"""build_notifiers: configured destinations in, one notifier per name out."""

from __future__ import annotations

import sys

import pytest

from newswatch.notify import (
    ConsoleNotifier,
    EmailNotifier,
    Notifier,
    SlackNotifier,
    WebhookNotifier,
    build_notifiers,
)
from support.alerts import deliver, destination

UA = "newswatch/test"


def test_build_notifiers_makes_one_notifier_per_destination() -> None:
    """Each destination type gets its notifier, keyed by name."""
    dests = [
        destination(name="team-slack", type="slack", url="https://hooks.example.org/s/1"),
        destination(name="ops-hook", type="webhook", url="https://hooks.example.org/w"),
        destination(
            name="analysts",
            type="email",
            to=["a@example.org"],
            host="smtp.example.org",
            **{"from": "n@example.org"},
        ),
        destination(name="terminal", type="console"),
    ]
    notifiers = build_notifiers(dests, user_agent=UA, stdout=sys.stdout)
    kinds = {name: type(n) for name, n in notifiers.items()}
    assert kinds == {
        "team-slack": SlackNotifier,
        "ops-hook": WebhookNotifier,
        "analysts": EmailNotifier,
        "terminal": ConsoleNotifier,
    }
    for name, notifier in notifiers.items():
        assert isinstance(notifier, Notifier) and notifier.name == name
        deliver(notifier)


def test_build_notifiers_rejects_duplicate_names() -> None:
    """Two destinations with one name cannot both be addressed."""
    dests = [destination(name="x", type="console"), destination(name="x", type="console")]
    with pytest.raises(ValueError, match="'x'"):
        build_notifiers(dests, user_agent=UA)
