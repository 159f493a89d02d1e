"""Shared wording of configuration problems: where a problem is, in the words a user
wrote (``watch 'belarus': keywords item 2: ``), and what they probably meant."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Final

from newswatch.config.yamldoc import Loc, get_value

__all__ = ["SECTIONS", "one_of", "prefix", "suggest"]

SECTIONS: Final = {"watches": "watch", "feeds": "feed", "destinations": "destination"}


def prefix(data: dict[str, Any], loc: Loc) -> str:
    """``watch 'belarus': keywords item 2: `` for ``('watches', 0, 'keywords', 1)``."""
    context, rest = "", loc
    if len(loc) >= 2 and loc[0] in SECTIONS and isinstance(loc[1], int):
        context, rest = _item_label(data, str(loc[0]), loc[1]), loc[2:]
    parts = [p for p in (context, _label(rest)) if p]
    return "".join(f"{p}: " for p in parts)


def _item_label(data: dict[str, Any], section: str, index: int) -> str:
    """``watch 'belarus'`` by the item's name, or ``watch 3`` when it has none."""
    name = get_value(data, (section, index, "name"))
    if isinstance(name, str) and name.strip():
        return f"{SECTIONS[section]} '{name}'"
    return f"{SECTIONS[section]} {index + 1}"


def _label(loc: Loc) -> str:
    """Keys joined by dots, list indexes as ``item N``, free-form keys quoted."""
    label = ""
    previous: str | int | None = None
    for part in loc:
        if isinstance(part, int):
            label += f" item {part + 1}"
        elif previous in ("terms", "headers"):
            label += f" '{part}'"
        else:
            label += ("." if label else "") + part
        previous = part
    return label.strip()


def suggest(word: str, choices: Sequence[str]) -> str | None:
    """The closest choice to a mistyped ``word``, if any is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def one_of(choices: Sequence[str]) -> str:
    """The valid choices, listed for a message."""
    return ", ".join(choices)
