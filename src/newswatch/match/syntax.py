"""The syntax tree of the watchlist language, and its error.

Every node keeps the offsets of the text it was parsed from (``start``, ``end``), so that
errors and explanations can point into the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import regex

__all__ = [
    "FIELDS",
    "And",
    "Field",
    "Group",
    "Near",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "Regex",
    "Words",
    "groups_in",
]

FIELDS: Final = ("title", "summary", "content")


class QueryError(ValueError):
    """A query (or term) cannot be used; ``offset`` is where in its text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Words:
    """A word, a prefix or a phrase: folded words that must follow each other."""

    text: str  # as written, without quotes
    words: tuple[str, ...]
    prefix: tuple[bool, ...]  # per word: a trailing * makes it a prefix
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Regex:
    """A /regex/ term, compiled."""

    text: str  # as written, with the slashes
    pattern: regex.Pattern[str]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Group:
    """``@name``: any variant of ``terms: name``."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Field:
    """``title:``, ``summary:`` or ``content:`` on a term or a parenthesised part."""

    field: str
    child: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Near:
    left: Node
    right: Node
    distance: int
    start: int
    end: int


Node = Words | Regex | Group | Field | Not | And | Or | Near


def groups_in(node: Node) -> list[Group]:
    """Every @group in ``node``, in order."""
    if isinstance(node, Group):
        return [node]
    if isinstance(node, Field | Not):
        return groups_in(node.child)
    if isinstance(node, And | Or):
        return [g for child in node.children for g in groups_in(child)]
    if isinstance(node, Near):
        return groups_in(node.left) + groups_in(node.right)
    return []
