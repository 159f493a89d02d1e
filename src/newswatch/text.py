"""Small text rules every layer shares."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 feed``, ``2 feeds``, ``0 feeds``; ``many`` for irregular plurals (``entries``)."""
    return f"{count} {word if count == 1 else many or word + 's'}"
