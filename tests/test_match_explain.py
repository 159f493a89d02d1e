"""``explain``: per watch and part, what occurs where, and which part fails and why."""

from __future__ import annotations

from typing import Any

import pytest

from newswatch.config import Settings
from newswatch.match import compile_watchlist
from newswatch.match.explain import explain, format_reports

TERMS = {"belarus": ["Belarus", "Беларусь"], "lukashenko": ["Lukashenko", "Лукашенко"]}


def report(watch: dict[str, Any], **fields: str) -> str:
    settings = Settings(terms=TERMS, watches=[{"name": "w", **watch}])
    return format_reports(explain(compile_watchlist(settings), fields))


def test_matching_watch_lists_hits_with_fields_and_offsets() -> None:
    """A match lists each hit: term, group, field, offsets and the text found."""
    text = report(
        {"keywords": ["@lukashenko"], "query": "leak*", "exclude": ["hockey"]},
        title="Лукашенко: documents leaked",
    )
    assert text.splitlines() == [
        "w: MATCHES",
        "  keywords: ok",
        '    Лукашенко (@lukashenko): title 0-9 "Лукашенко"',
        "  query: ok",
        '    leak*: title 21-27 "leaked"',
        "  exclude: ok, none of them occurs",
        "  snippet: Лукашенко: documents leaked",
    ]


@pytest.mark.parametrize(
    ("watch", "title", "reason"),
    [
        (
            {"keywords": ["@belarus", "Minsk"]},
            "Nothing here",
            "keywords: FAILS: none of them occurs (@belarus, Minsk)",
        ),
        (
            {"query": "@belarus AND (leak* OR secret)"},
            "Belarus votes",
            "query: FAILS: '(leak* OR secret)' (column 14): no alternative holds: "
            "'leak*' (column 15) does not occur; 'secret' (column 24) does not occur",
        ),
        (
            {"query": "Belarus AND NOT hockey"},
            "Belarus hockey final",
            "query: FAILS: 'NOT hockey' (column 13) fails: hockey occurs (title 8-14 \"hockey\")",
        ),
        (
            {"query": "Lukashenko NEAR/1 plan"},
            "Lukashenko has a plan",
            "query: FAILS: 'Lukashenko NEAR/1 plan' (column 1) fails: both occur, "
            "but never with 1 word or fewer between them",
        ),
        (
            {"query": "Belarus title:Minsk"},
            "Belarus",
            "query: FAILS: 'Minsk' (column 15) does not occur in the title",
        ),
        (
            {"query": "title:@belarus OR x"},
            "nothing",
            "query: FAILS: 'title:@belarus OR x' (column 1): no alternative holds: "
            "'@belarus' (column 7): no variant occurs in the title; 'x' (column 19) does not occur",
        ),
        (
            {"keywords": ["Belarus"], "exclude": ["hockey"]},
            "Belarus hockey",
            "exclude: FAILS: hockey occurs, which excludes the article",
        ),
    ],
)
def test_failing_part_is_named_with_its_reason(
    watch: dict[str, Any], title: str, reason: str
) -> None:
    """A watch that does not match says which part fails, where in the query, and why."""
    text = report(watch, title=title)
    assert text.startswith("w: no match")
    assert f"  {reason}" in text.splitlines()


def test_failing_query_still_shows_what_occurs() -> None:
    """Under a failing query, the terms that do occur are listed."""
    text = report({"query": "Belarus AND leak*"}, content="Belarus votes")
    assert '    Belarus: content 0-7 "Belarus"' in text.splitlines()


def test_only_the_named_watch_is_explained() -> None:
    """``watch=`` limits the report to that watch."""
    settings = Settings(
        watches=[{"name": "a", "keywords": ["x1"]}, {"name": "b", "keywords": ["x2"]}]
    )
    reports = explain(compile_watchlist(settings), {"content": "x2"}, watch="b")
    assert [(r.watch, r.matched) for r in reports] == [("b", True)]


def test_explain_notes_a_regex_that_ran_too_long() -> None:
    """explain says when a watch's regex was stopped on the text."""
    text = report({"query": "/(x+x+)+y/"}, content="x" * 3000)
    assert "  note: /(x+x+)+y/ ran too long on this text and counted as no match" in text
