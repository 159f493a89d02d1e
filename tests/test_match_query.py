"""The query language parser: what it accepts, and every error with its offset."""

from __future__ import annotations

import pytest

from newswatch.match.query import (
    And,
    Field,
    Group,
    Near,
    Not,
    Or,
    QueryError,
    Regex,
    Words,
    parse_query,
    parse_term,
    parse_variant,
)


def shape(node: object) -> str:
    """A compact text form of a parsed tree."""
    if isinstance(node, Words):
        return "+".join(
            w + ("*" if p else "") for w, p in zip(node.words, node.prefix, strict=True)
        )
    if isinstance(node, Regex):
        return node.text
    if isinstance(node, Group):
        return f"@{node.name}"
    if isinstance(node, Field):
        return f"{node.field}:{shape(node.child)}"
    if isinstance(node, Not):
        return f"NOT({shape(node.child)})"
    if isinstance(node, Near):
        return f"NEAR{node.distance}({shape(node.left)},{shape(node.right)})"
    assert isinstance(node, And | Or)
    name = "AND" if isinstance(node, And) else "OR"
    return f"{name}({','.join(shape(c) for c in node.children)})"


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("Belarus", "belarus"),
        ("a b c", "AND(a,b,c)"),
        ("a AND b OR c", "OR(AND(a,b),c)"),
        ("a OR b c", "OR(a,AND(b,c))"),
        ("NOT a b", "AND(NOT(a),b)"),
        ("NOT (a OR b)", "NOT(OR(a,b))"),
        ("a NEAR/3 b OR c", "OR(NEAR3(a,b),c)"),
        ("NOT a NEAR/3 b", "NOT(NEAR3(a,b))"),
        ('"leaked documents" leak*', "AND(leaked+documents,leak*)"),
        ('"leaked doc*"', "leaked+doc*"),
        ("Lukashenko's", "lukashenko+s"),  # an apostrophe separates words
        ("title:@belarus", "title:@belarus"),
        ("Title:(a OR b)", "title:OR(a,b)"),  # field names in any case
        ("/lukashenk[oa]/", "/lukashenk[oa]/"),
        ("/a\\/b/", "/a\\/b/"),  # \/ inside a regex
        ("near NEARBY", "AND(near,nearby)"),  # only NEAR/n is an operator
    ],
)
def test_parse(query: str, tree: str) -> None:
    """Precedence is NOT, then NEAR, then AND (or juxtaposition), then OR."""
    assert shape(parse_query(query)) == tree


ERRORS = [
    ("", 0, "the query is empty"),
    ("a AND", 5, "expected a term after AND, but the query ends here"),
    ("OR a", 0, "expected a term, not OR"),
    ("a OR OR b", 5, "expected a term after OR, not OR"),
    ("(a", 0, "this '(' is never closed"),
    ("a)", 1, "this ')' closes nothing"),
    ("()", 1, "expected a term before ')'"),
    ('a "b', 2, 'this phrase is never closed: add the closing "'),
    ('""', 0, "has no letters or digits"),
    ("a /b", 2, "this /regex/ is never closed"),
    ("/[a/", 3, "invalid regex: unterminated character set"),
    ("//", 0, "an empty /regex/ matches everything"),
    ("/a*/", 0, "matches an empty text"),
    ("/(a+)+$/", 0, "can take too long"),
    ("a NEAR b", 2, "NEAR needs the largest number of words allowed"),
    ("a NEAR/x b", 2, "NEAR needs the largest number of words allowed"),
    ("a NEAR/5000 b", 2, "NEAR/5000 is too far: at most NEAR/1000"),
    ("a NEAR/2 (b AND c)", 9, "needs a term, @group or (x OR y) on each side"),
    ("a NEAR/2 NOT b", 9, "expected a term after NEAR/2, not NOT"),
    ("a and b", 2, "'and' is not an operator: write AND in capitals"),
    ("a Or b", 2, "'Or' is not an operator: write OR in capitals"),
    ("not a", 0, "'not' is not an operator: write NOT in capitals"),
    ("titel:a", 0, "unknown field 'titel:' (did you mean 'title:'?)"),
    ("http://x", 0, "unknown field 'http:'"),
    ("title:", 6, "expected a term after title:, but the query ends here"),
    ("title:(a OR summary:b)", 12, "summary: inside title: can never match"),
    ("le*ak", 2, "'*' may only end a word"),
    ("a*", 0, "'a*' is too short a prefix"),
    ("*", 0, "'*' must follow the start of a word"),
    ("a @", 2, "'@' must be followed by a group name"),
    ("a --", 2, "'--' has no letters or digits to look for"),
]


@pytest.mark.parametrize(("query", "offset", "message"), ERRORS)
def test_query_error_names_the_problem_and_its_offset(
    query: str, offset: int, message: str
) -> None:
    """Every syntax error says what is wrong and where in the query."""
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert message in caught.value.message
    assert caught.value.offset == offset


@pytest.mark.parametrize(
    ("keyword", "tree"),
    [
        ("leaked documents", "leaked+documents"),  # quotes are optional in keywords
        ('"leaked documents"', "leaked+documents"),
        ('"rock AND roll"', "rock+and+roll"),  # quoted: words, not operators
        ("title:Lukashenko", "title:lukashenko"),
        ("summary: @belarus", "summary:@belarus"),
        ("/лукашенк/", "/лукашенк/"),
        ("@belarus", "@belarus"),
    ],
)
def test_parse_keyword(keyword: str, tree: str) -> None:
    """A keyword is one term, with an optional field."""
    assert shape(parse_term(keyword)) == tree


@pytest.mark.parametrize(
    ("keyword", "offset", "message"),
    [
        ("Belarus AND leak", 8, "AND makes this a query, but a keyword is one term"),
        ("a NEAR/2 b", 2, "NEAR/2 makes this a query"),
        ('leaked "documents"', 7, "quote the whole phrase, or none of it"),
        ('"a"b"', 2, 'a phrase cannot hold a "'),
        ("  ", 0, "has no letters or digits"),
    ],
)
def test_keyword_errors(keyword: str, offset: int, message: str) -> None:
    """Keywords refuse operators and stray quotes, with the offset."""
    with pytest.raises(QueryError) as caught:
        parse_term(keyword)
    assert message in caught.value.message
    assert caught.value.offset == offset


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("@other", "a group variant cannot name another group"),
        ("title:Minsk", "a group variant cannot have a field"),
    ],
)
def test_group_variant_errors(variant: str, message: str) -> None:
    """A group variant is a word, phrase, prefix or regex: no group, no field."""
    with pytest.raises(QueryError, match=message):
        parse_variant(variant)


def test_catastrophic_regex_is_refused_at_load() -> None:
    """A pattern that backtracks catastrophically on common text is refused at load."""
    with pytest.raises(QueryError, match="can take too long"):
        parse_query("/(\\w+\\s?)+$/")
