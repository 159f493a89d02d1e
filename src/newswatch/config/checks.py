"""Checks that only later stages can make, and where inside a value a problem is.

The configuration layer cannot know the query language (``match`` sits above it), yet a
bad query must be reported like any other configuration problem: at ``PATH:LINE:COLUMN``,
column *inside* the query, with a caret under the spot. So the loader accepts *checks*:
functions of the validated settings that return :class:`ValueProblem` (a value's ``loc``,
a message, and optionally the offset in the value's text). The loader finds the value in
the YAML and turns the offset into a file position with :func:`value_position`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from yaml.nodes import Node, ScalarNode

from newswatch.errors import ValueProblem

if TYPE_CHECKING:
    from newswatch.config.schema import Settings

__all__ = ["Check", "ValueProblem", "caret_excerpt", "value_position"]

_EXCERPT_WIDTH: Final = 100
_MAX_SKIP: Final = 12  # raw characters that may stand for nothing in the value


Check = Callable[["Settings"], Iterable[ValueProblem]]


def value_position(source: str, node: Node, value: str, offset: int) -> tuple[int, int] | None:
    """1-based line and column in ``source`` of character ``offset`` of the scalar
    ``node`` whose value is ``value``; None when the value cannot be followed through
    the way it is written (escapes, folding, substitution)."""
    if not isinstance(node, ScalarNode) or node.start_mark is None or node.end_mark is None:
        return None
    raw_start, raw_end = node.start_mark.index, node.end_mark.index
    i = raw_start + _opening(source, raw_start, node.style)
    for j, char in enumerate(value):
        skipped = 0
        while i < raw_end and source[i] != char:
            if source[i] not in " \t\r\n\\'\"" or skipped >= _MAX_SKIP:
                return None
            i += 1
            skipped += 1
        if i >= raw_end:
            return None
        if j == offset:
            return _line_column(source, i)
        if char == "'" and node.style == "'" and source.startswith("''", i):
            i += 1  # '' stands for one quote
        i += 1
    if offset >= len(value):
        return _line_column(source, min(i, raw_end))
    return None


def _opening(source: str, start: int, style: str | None) -> int:
    """How many characters open the scalar: a quote, or a block header line."""
    if style in ("'", '"'):
        return 1
    if style in ("|", ">"):
        newline = source.find("\n", start)
        return (newline + 1 - start) if newline != -1 else 0
    return 0


def _line_column(source: str, index: int) -> tuple[int, int]:
    line = source.count("\n", 0, index) + 1
    return line, index - (source.rfind("\n", 0, index) + 1) + 1


def caret_excerpt(source: str, line: int, column: int) -> str:
    """Line ``line`` of ``source`` and a caret under ``column``, indented four spaces;
    a long line is cut around the column."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1].rstrip()
    index = min(column - 1, len(text))
    start = max(0, index - _EXCERPT_WIDTH // 2)
    end = min(len(text), start + _EXCERPT_WIDTH)
    shown = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    before = ("…" if start else "") + text[start:index]
    pad = "".join("\t" if c == "\t" else " " * _width(c) for c in before)
    return f"    {shown}\n    {pad}^"


def _width(char: str) -> int:
    """Columns a character takes in a terminal (wide East Asian characters take two)."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
