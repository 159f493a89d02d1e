"""Terms of the watchlist language: words, phrases, prefixes, @groups and /regexes/,
and the items of ``keywords``, ``exclude`` and ``terms:`` groups, which are one term each."""

from __future__ import annotations

import re
from typing import Final

import regex

from newswatch.match.normalize import _UNIFY, fold, words
from newswatch.match.syntax import FIELDS, Field, Group, Node, QueryError, Regex, Words

__all__ = [
    "FIELD_LIKE",
    "group_term",
    "parse_term",
    "parse_variant",
    "regex_term",
    "words_term",
]

MIN_PREFIX: Final = 2
REGEX_FLAGS: Final = regex.IGNORECASE | regex.FULLCASE | regex.UNICODE
REGEX_PROBE_TIMEOUT: Final = 0.05
# Texts that make backtracking patterns such as (a+)+$ or (\w+\s?)+$ blow up.
_PROBES: Final = ("a" * 4000 + "!", "word " * 800 + "!", "1" * 4000 + "x", "a-" * 2000)
_GROUP_NAME: Final = re.compile(r"[\w-]+")
FIELD_LIKE: Final = re.compile(r"([A-Za-z]+):")


def words_term(text: str, start: int, *, quoted: bool) -> Words:
    """The folded words of a word or phrase; ``*`` may end any of its words."""
    offset = start + (1 if quoted else 0)
    found: list[str] = []
    prefix: list[bool] = []
    for piece in re.finditer(r"\S+", text):
        raw = piece.group()
        star = raw.endswith("*")
        body = raw.rstrip("*") if star else raw
        if "*" in body:
            where = offset + piece.start() + body.index("*")
            raise QueryError("'*' may only end a word, as in leak*", where)
        folded = words(fold(body))
        if not folded:
            if star and not body:
                raise QueryError("'*' must follow the start of a word, as in leak*", offset)
            continue
        found.extend(folded)
        prefix.extend([False] * (len(folded) - 1) + [star])
        if star and len(folded[-1]) < MIN_PREFIX:
            where = offset + piece.start()
            raise QueryError(
                f"'{raw}' is too short a prefix: give at least {MIN_PREFIX} letters", where
            )
    if not found:
        shown = text.strip() or text
        raise QueryError(f"'{shown}' has no letters or digits to look for", start)
    return Words(text.strip(), tuple(found), tuple(prefix), start, start + len(text))


def regex_term(source: str, start: int, end: int) -> Regex:
    """Compile ``/source/``: case-insensitive, over folded text, bounded in time."""
    if not source:
        raise QueryError("an empty /regex/ matches everything: write a pattern", start)
    pattern_text = "".join(_UNIFY.get(c, c) for c in source)
    try:
        pattern = regex.compile(pattern_text, REGEX_FLAGS)
    except regex.error as exc:
        pos = getattr(exc, "pos", None)
        reason = str(getattr(exc, "msg", None) or exc)
        where = start + 1 + (pos if isinstance(pos, int) else 0)
        raise QueryError(f"invalid regex: {reason}", where) from None
    if pattern.search("") is not None:
        raise QueryError("this regex matches an empty text, so it would match every article", start)
    for probe in _PROBES:
        try:
            pattern.search(probe, timeout=REGEX_PROBE_TIMEOUT)
        except TimeoutError:
            raise QueryError(
                "this regex can take too long on some texts (nested repetition such as "
                "(a+)+ backtracks catastrophically): simplify it",
                start,
            ) from None
    return Regex(f"/{source}/", pattern, start, end)


def group_term(name: str, start: int, end: int) -> Group:
    """``@name``, checked to be a possible group name."""
    if not _GROUP_NAME.fullmatch(name):
        raise QueryError("'@' must be followed by a group name from 'terms', as in @belarus", start)
    return Group(name, start, end)


def parse_term(text: str) -> Node:
    """One ``keywords``/``exclude`` item: a word, phrase (quotes optional), prefix,
    @group or /regex/, with an optional field prefix. Not a query."""
    start = len(text) - len(text.lstrip())
    if start == len(text):
        raise QueryError("has no letters or digits to look for", 0)
    field: str | None = None
    shown = FIELD_LIKE.match(text, start)
    if shown and shown.group(1).lower() in FIELDS:
        field = shown.group(1).lower()
        start = shown.end()
        while start < len(text) and text[start].isspace():
            start += 1
    node = _single_term(text, start)
    return Field(field, node, 0, len(text)) if field else node


def _single_term(text: str, start: int) -> Node:
    body = text[start:].rstrip()
    if body.startswith("@"):
        return group_term(body[1:], start, start + len(body))
    if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
        return regex_term(body[1:-1], start, start + len(body))
    if len(body) >= 2 and body.startswith('"') and body.endswith('"'):
        if '"' in body[1:-1]:
            raise QueryError('a phrase cannot hold a "', start + 1 + body[1:-1].index('"'))
        return words_term(body[1:-1], start, quoted=True)
    if '"' in body:
        raise QueryError(
            "a keyword is one term: quote the whole phrase, or none of it",
            start + body.index('"'),
        )
    for found in re.finditer(r"\S+", body):
        if found.group() in ("AND", "OR", "NOT", "NEAR") or found.group().startswith("NEAR/"):
            raise QueryError(
                f"{found.group()} makes this a query, but a keyword is one term: "
                "put boolean expressions in 'query' (or quote the phrase to look for it)",
                start + found.start(),
            )
    return words_term(body, start, quoted=False)


def parse_variant(text: str) -> Words | Regex:
    """One variant of a ``terms:`` group: a word, phrase, prefix or /regex/."""
    stripped = text.strip()
    if stripped.startswith("@"):
        raise QueryError("a group variant cannot name another group: list its words", 0)
    node = parse_term(text)
    if isinstance(node, Field):
        raise QueryError("a group variant cannot have a field: put the field on @group", 0)
    assert isinstance(node, Words | Regex)
    return node
