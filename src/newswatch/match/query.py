"""The watchlist query language: text -> syntax tree, with the offset of every part.

    query    := or
    or       := and ("OR" and)*
    and      := unary (["AND"] unary)*          juxtaposition means AND
    unary    := "NOT" unary | near
    near     := primary ("NEAR/" n primary)*    at most n words between, either order
    primary  := [field ":"] ( "(" or ")" | term )
    term     := word | word* | "a phrase" | @group | /regex/
    field    := title | summary | content

Operators are written in capitals; ``and``, ``or``, ``not`` in lower case are refused
(quote them to look for the word). Every error is a :class:`QueryError` with the offset
in the query text where it was found, so the config loader can point a caret at it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Final

from newswatch.match.syntax import (
    FIELDS,
    And,
    Field,
    Group,
    Near,
    Node,
    Not,
    Or,
    QueryError,
    Regex,
    Words,
    groups_in,
)
from newswatch.match.terms import (
    FIELD_LIKE,
    group_term,
    parse_term,
    parse_variant,
    regex_term,
    words_term,
)

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
    "parse_query",
    "parse_term",
    "parse_variant",
]

MAX_NEAR: Final = 1000


# ------------------------------------------------------------------ lexer


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ( ) AND OR NOT NEAR FIELD WORD PHRASE REGEX GROUP END
    text: str
    start: int
    end: int
    value: int = 0  # NEAR's distance


_SPECIAL: Final = frozenset('()"')
_OPERATOR_WORDS: Final = {"and": "AND", "or": "OR", "not": "NOT"}


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, char, i, i + 1))
            i += 1
        elif char == '"':
            i = _lex_phrase(text, i, tokens)
        elif char == "/":
            i = _lex_regex(text, i, tokens)
        else:
            i = _lex_bare(text, i, tokens)
    tokens.append(_Token("END", "", len(text), len(text)))
    return tokens


def _lex_phrase(text: str, i: int, tokens: list[_Token]) -> int:
    close = text.find('"', i + 1)
    if close == -1:
        raise QueryError('this phrase is never closed: add the closing "', i)
    tokens.append(_Token("PHRASE", text[i + 1 : close], i, close + 1))
    return close + 1


def _lex_regex(text: str, i: int, tokens: list[_Token]) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "/":
            tokens.append(_Token("REGEX", text[i + 1 : j], i, j + 1))
            return j + 1
        j += 1
    raise QueryError("this /regex/ is never closed: add the closing / (write \\/ for a /)", i)


def _lex_bare(text: str, i: int, tokens: list[_Token]) -> int:
    j = i
    while j < len(text) and not text[j].isspace() and text[j] not in _SPECIAL:
        j += 1
    word = text[i:j]
    field = FIELD_LIKE.match(word)
    if field:
        name = field.group(1)
        if name.lower() not in FIELDS:
            raise QueryError(_unknown_field(name), i)
        tokens.append(_Token("FIELD", name.lower(), i, i + len(field.group(0))))
        return i + len(field.group(0))
    tokens.append(_bare_token(word, i))
    return j


def _bare_token(word: str, start: int) -> _Token:
    end = start + len(word)
    if word in ("AND", "OR", "NOT"):
        return _Token(word, word, start, end)
    if word == "NEAR" or word.startswith("NEAR/"):
        return _Token("NEAR", word, start, end, _near_distance(word, start))
    if word.lower() in _OPERATOR_WORDS:
        operator = _OPERATOR_WORDS[word.lower()]
        raise QueryError(
            f"'{word}' is not an operator: write {operator} in capitals, "
            f'or "{word}" in quotes to look for the word',
            start,
        )
    if word.startswith("@"):
        return _Token("GROUP", word[1:], start, end)
    return _Token("WORD", word, start, end)


def _near_distance(word: str, start: int) -> int:
    found = re.fullmatch(r"NEAR/(\d{1,6})", word)
    if not found:
        raise QueryError(
            "NEAR needs the largest number of words allowed between its terms, e.g. NEAR/5",
            start,
        )
    distance = int(found.group(1))
    if distance > MAX_NEAR:
        raise QueryError(f"NEAR/{distance} is too far: at most NEAR/{MAX_NEAR}", start)
    return distance


def _unknown_field(name: str) -> str:
    guess = difflib.get_close_matches(name.lower(), FIELDS, n=1, cutoff=0.6)
    hint = f" (did you mean '{guess[0]}:'?)" if guess else ""
    return (
        f"unknown field '{name}:'{hint}; fields are title:, summary: and content: "
        "(quote the text to look for it as written)"
    )


# ------------------------------------------------------------------ parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        node = self.parse_or()
        token = self.peek()
        if token.kind == ")":
            raise QueryError("this ')' closes nothing: remove it or add '(' before", token.start)
        if token.kind != "END":  # pragma: no cover - every other token starts an operand
            raise QueryError(f"unexpected {token.text!r}", token.start)
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.peek().kind == "OR":
            operator = self.take()
            items.append(self.parse_and(after=operator))
        return items[0] if len(items) == 1 else Or(tuple(items), items[0].start, items[-1].end)

    def parse_and(self, after: _Token | None = None) -> Node:
        items = [self.parse_unary(after)]
        while True:
            token = self.peek()
            if token.kind == "AND":
                self.take()
                items.append(self.parse_unary(token))
            elif token.kind in _OPERAND_STARTS:
                items.append(self.parse_unary(None))
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items), items[0].start, items[-1].end)

    def parse_unary(self, after: _Token | None) -> Node:
        token = self.peek()
        if token.kind == "NOT":
            self.take()
            child = self.parse_unary(token)
            return Not(child, token.start, child.end)
        return self.parse_near(after)

    def parse_near(self, after: _Token | None) -> Node:
        left = self.parse_primary(after)
        while self.peek().kind == "NEAR":
            operator = self.take()
            _check_near_operand(left, operator)
            right = self.parse_primary(operator)
            _check_near_operand(right, operator)
            left = Near(left, right, operator.value, left.start, right.end)
        return left

    def parse_primary(self, after: _Token | None) -> Node:
        token = self.take()
        if token.kind == "FIELD":
            child = self.parse_primary(token)
            _check_nested_field(child, token.text)
            return Field(token.text, child, token.start, child.end)
        if token.kind == "(":
            inner = self.parse_or()
            close = self.take()
            if close.kind != ")":
                raise QueryError("this '(' is never closed: add ')'", token.start)
            return _reframe(inner, token.start, close.end)
        if token.kind == "WORD":
            return words_term(token.text, token.start, quoted=False)
        if token.kind == "PHRASE":
            return words_term(token.text, token.start, quoted=True)
        if token.kind == "REGEX":
            return regex_term(token.text, token.start, token.end)
        if token.kind == "GROUP":
            return group_term(token.text, token.start, token.end)
        raise QueryError(_expected_term(token, after), token.start)


_OPERAND_STARTS: Final = frozenset({"NOT", "FIELD", "(", "WORD", "PHRASE", "REGEX", "GROUP"})


def _reframe(node: Node, start: int, end: int) -> Node:
    """The node of a parenthesised part, spanning its parentheses."""
    if isinstance(node, And | Or):
        return type(node)(node.children, start, end)
    return node


def _expected_term(token: _Token, after: _Token | None) -> str:
    shown = f"{after.text}:" if after is not None and after.kind == "FIELD" else ""
    where = f" after {shown or after.text}" if after is not None else ""
    if token.kind == "END":
        return f"expected a term{where}, but the query ends here"
    if token.kind == ")":
        return f"expected a term{where} before ')'"
    return f"expected a term{where}, not {token.text}"


def _check_near_operand(node: Node, operator: _Token) -> None:
    """NEAR compares word positions: its sides must be terms, groups, or OR/NEAR of them."""
    if isinstance(node, Field):
        _check_near_operand(node.child, operator)
    elif isinstance(node, Or):
        for child in node.children:
            _check_near_operand(child, operator)
    elif isinstance(node, And | Not):
        raise QueryError(
            f"{operator.text} needs a term, @group or (x OR y) on each side, "
            "not an AND or NOT part",
            node.start,
        )


def _check_nested_field(node: Node, field: str) -> None:
    """A different field inside ``title:(...)`` could never match."""
    if isinstance(node, Field):
        if node.field != field:
            raise QueryError(
                f"{node.field}: inside {field}: can never match: use one field",
                node.start,
            )
        _check_nested_field(node.child, field)
    elif isinstance(node, Not):
        _check_nested_field(node.child, field)
    elif isinstance(node, And | Or):
        for child in node.children:
            _check_nested_field(child, field)
    elif isinstance(node, Near):
        _check_nested_field(node.left, field)
        _check_nested_field(node.right, field)


# ------------------------------------------------------------------ entry points


def parse_query(text: str) -> Node:
    """The tree of a ``query:``; raises :class:`QueryError`."""
    if not text.strip():
        raise QueryError("the query is empty: write one or remove the key", 0)
    return _Parser(text).parse()
