"""The watchlist matcher: keywords, queries (every operator), fields, groups, prefixes,
phrases, NEAR, exclusions, regexes, hits and snippets."""

from __future__ import annotations

from typing import Any

import pytest

from newswatch.config import Settings
from newswatch.match import WatchlistError, compile_watchlist, normalize
from newswatch.models import Article, Match

GROUPS = {
    "belarus": ["Belarus", "Беларусь", "Белоруссия", "Беларусі"],
    "lukashenko": ["Lukashenko", "Lukashenka", "Лукашенко", "Лукашэнка"],
    "leaks": ["leaked documents", "leak*", "/секретн(ые|ых) документ/"],
}


def article(title: str = "", summary: str = "", content: str = "") -> Article:
    return Article(
        feed_url="https://f.example/rss",
        entry_key="1",
        link=None,
        link_key=None,
        title=title,
        summary=summary,
        content=content,
    )


def run(watch: dict[str, Any], **fields: str) -> list[Match]:
    """Match one article (given by field) against one watch named ``w``."""
    settings = Settings(terms=GROUPS, watches=[{"name": "w", **watch}])
    return compile_watchlist(settings).match(article(**fields))


def matches(watch: dict[str, Any], **fields: str) -> bool:
    return bool(run(watch, **fields))


KEYWORD_CASES = [
    (["Belarus"], "News from Belarus today", True),
    (["Belarus"], "BELARUS votes", True),
    (["Belarus"], "Belarusian opposition", False),  # whole words only
    (["Belarus"], "Anti-Belarus rhetoric", True),  # a hyphen separates words
    (["Belarus*"], "Belarusian opposition", True),  # trailing * is a prefix
    (["leak*"], "Documents leaked", True),
    (["leak*"], "A bleak day", False),  # a prefix still starts at a word boundary
    (["leaked documents"], "leaked\n documents", True),  # any run of spaces
    (["leaked documents"], "leaked — documents", True),  # or punctuation
    (['"leaked documents"'], "the leaked documents", True),  # quotes are optional
    (["leaked documents"], "leaked secret documents", False),
    (["leaked doc*"], "leaked docs", True),  # a prefix inside a phrase
    (["@lukashenko"], "Лукашенко выступил", True),  # a @group variant
    (["@lukashenko"], "ЛУКАШЭНКА сказаў", True),  # Cyrillic case folding
    (["@belarus"], "У Беларусі", True),
    (["Минск"], "Протесты в Минске", False),  # whole words in Cyrillic too
    (["Минск"], "Минск—Москва", True),
    (["no"], "Why no one came", True),  # YAML-ish words are just words
    (["G7"], "the G7 summit", True),
    (["2024"], "in 2024, votes", True),
    (["title:Lukashenko"], "Lukashenko", True),
    (["summary:Lukashenko"], "Lukashenko", False),  # a field on a keyword
    (["/lukashenk[oa]/"], "Лукашенко и Lukashenka", True),  # a regex keyword
]


@pytest.mark.parametrize(("keywords", "title", "expected"), KEYWORD_CASES)
def test_keyword_matching(keywords: list[str], title: str, expected: bool) -> None:
    """Each keyword form matches exactly the texts it should."""
    assert matches({"keywords": keywords}, title=title) is expected


QUERY_CASES = [
    # AND, juxtaposition, OR, NOT, parentheses
    ("Belarus AND leak*", "Belarus: documents leaked", True),
    ("Belarus AND leak*", "Belarus votes", False),
    ("Belarus leak*", "Belarus: documents leaked", True),  # juxtaposition is AND
    ("Belarus leak*", "documents leaked", False),
    ("Belarus OR Minsk", "Protest in Minsk", True),
    ("Belarus OR Minsk", "Protest in Kyiv", False),
    ("Belarus NOT hockey", "Belarus votes", True),
    ("Belarus NOT hockey", "Belarus hockey win", False),
    ("NOT hockey", "Weather report", True),  # a query of NOTs matches without terms
    ("NOT hockey", "hockey final", False),
    ("NOT NOT hockey", "hockey final", True),
    ("Belarus AND NOT (hockey OR football)", "Belarus football", False),
    ("Belarus AND NOT (hockey OR football)", "Belarus election", True),
    ("Minsk OR Belarus AND leak*", "Minsk today", True),  # AND binds tighter than OR
    ("Minsk OR Belarus AND leak*", "Belarus today", False),
    ("(Minsk OR Belarus) AND leak*", "Minsk today", False),
    ("(Minsk OR Belarus) AND leak*", "Minsk leaks", True),
    ('"secret documents" OR leak*', "secret, documents!", True),
    ('"secret documents"', "secret papers and documents", False),
    # groups
    ("@belarus AND @lukashenko", "Лукашэнка: Беларусі", True),
    ("@belarus AND @lukashenko", "Lukashenko abroad", False),
    ("@leaks", "Секретные документы опубликованы", True),  # a regex variant
    ("@leaks", "Documents leaked", True),  # a prefix variant
    # NEAR: at most n words between, either order, one field
    ("Lukashenko NEAR/0 speech", "Lukashenko speech", True),
    ("Lukashenko NEAR/0 speech", "Lukashenko's speech", False),  # "s" is a word
    ("Lukashenko NEAR/1 speech", "Lukashenko's speech", True),
    ("Lukashenko NEAR/2 documents", "documents seen by Lukashenko", True),  # either order
    ("Lukashenko NEAR/1 documents", "documents seen by Lukashenko", False),
    ('Lukashenko NEAR/3 "leaked documents"', "Lukashenko and the leaked documents", True),
    ("@lukashenko NEAR/2 (leak* OR secret)", "Лукашенко secret plan", True),
    ("(Lukashenko NEAR/1 plan) NEAR/1 leak*", "leaked: Lukashenko plan", True),
]


@pytest.mark.parametrize(("query", "title", "expected"), QUERY_CASES)
def test_query_operators(query: str, title: str, expected: bool) -> None:
    """Each operator of the query language holds exactly when it should."""
    assert matches({"query": query}, title=title) is expected


FIELD_CASES = [
    ("title:Lukashenko", {"title": "Lukashenko speaks"}, True),
    ("title:Lukashenko", {"summary": "Lukashenko speaks"}, False),
    ("summary:Lukashenko", {"summary": "Lukashenko speaks"}, True),
    ("content:Lukashenko", {"content": "Lukashenko speaks"}, True),
    ("content:Lukashenko", {"title": "Lukashenko speaks"}, False),
    ("title:@belarus", {"title": "Беларусь сегодня"}, True),
    ("title:@belarus", {"content": "Беларусь сегодня"}, False),
    ("title:(Minsk OR Belarus) leak*", {"title": "Minsk", "content": "leaked"}, True),
    ("title:(Minsk OR Belarus) leak*", {"title": "leaked", "content": "Minsk"}, False),
    ("Lukashenko NEAR/5 leak*", {"title": "Lukashenko", "summary": "leaked"}, False),
    ("NOT title:hockey", {"content": "hockey"}, True),
]


@pytest.mark.parametrize(("query", "fields", "expected"), FIELD_CASES)
def test_field_prefixes(query: str, fields: dict[str, str], expected: bool) -> None:
    """title:, summary: and content: restrict a term, a group or a part to one field."""
    assert matches({"query": query}, **fields) is expected


def test_keywords_query_and_exclude_combine() -> None:
    """A watch needs a keyword, its query and no exclude term, all at once."""
    watch = {"keywords": ["@belarus"], "query": "leak*", "exclude": ["hockey"]}
    assert matches(watch, title="Belarus: documents leaked")
    assert not matches(watch, title="Belarus votes")  # query fails
    assert not matches(watch, title="Leaked in Minsk")  # no keyword
    assert not matches(watch, title="Belarus leaked", content="ice hockey")  # excluded


@pytest.mark.parametrize(
    ("exclude", "fields", "expected"),
    [
        (["ice hockey"], {"summary": "An ice-hockey final"}, False),
        (["ice hockey"], {"summary": "A final"}, True),
        (["@lukashenko"], {"content": "Лукашэнка"}, False),  # a group in exclude
        (["title:hockey"], {"content": "hockey"}, True),  # a field in exclude
        (["title:hockey"], {"title": "Belarus hockey"}, False),
    ],
)
def test_exclude_vetoes_a_match(exclude: list[str], fields: dict[str, str], expected: bool) -> None:
    """An exclude term that occurs (where its field says) suppresses the watch."""
    fields = {"title": "Belarus wins", **fields}
    assert matches({"keywords": ["Belarus"], "exclude": exclude}, **fields) is expected


REGEX_CASES = [
    ("/lukashenk[oa]/", "LUKASHENKA", True),  # case-insensitive
    ("/лукашенк[оау]/", "ЛУКАШЕНКУ", True),  # Unicode-aware
    ("/\\bminsk\\b/", "Minsk-based", True),
    ("/\\bminsk\\b/", "Minskers", False),
    ("/straße/", "STRASSE", True),  # full case folding
    ("/lukashenko's/", "Lukashenko’s", True),  # apostrophes unified in text and pattern
    ("/ё/", "Пётр", True),  # ё is read as е in both
    ("/\\d{4} election/", "the 2025 election", True),
]


@pytest.mark.parametrize(("query", "title", "expected"), REGEX_CASES)
def test_regex_terms(query: str, title: str, expected: bool) -> None:
    """A /regex/ is case-insensitive and Unicode-aware, over the normalized text."""
    assert matches({"query": query}, title=title) is expected


NORMALIZATION_CASES = [
    ("Lukashenko", "Lukashenko’s speech", True),  # typographic apostrophe
    ("Lukashenko", "Luka\u00adshenko spoke", True),  # soft hyphen removed
    ("Lukashenko", "Luka\u200bshenko spoke", True),  # zero-width space removed
    ("Lukashenko", "\u200fLukashenko\u200e spoke", True),  # bidi marks removed
    ("Belarus", "Ｂｅｌａｒｕｓ", True),  # NFKC: full-width letters
    ("straße", "STRASSE closed", True),  # case folding, not lower()
    ("з'їзд", "з’їзд партії", True),  # Ukrainian apostrophe variants agree
    ("з'їзд", "зʼїзд партії", True),  # U+02BC, a letter, counts as the apostrophe
    ("Минск-Москва", "Минск–Москва", True),  # dash variants
    ("Пётр", "Петр Петров", True),  # ё and е
    ("Петр", "ПЁТР", True),
    ("Belarus", "Belarus\u00a0today", True),  # no-break space
    ("fine", "ﬁne words", True),  # ligature
    ("北京", "我在北京工作", True),  # no spaces: every character is a word
    ("北京", "我在北工作京", False),
    ("नमस्ते", "नमस्ते दुनिया", True),  # vowel signs are part of the word
    ("नमस", "नमस्ते दुनिया", False),
    ("e\u0301te\u0301", "Été", True),  # combining accents compose
]


@pytest.mark.parametrize(("keyword", "title", "expected"), NORMALIZATION_CASES)
def test_normalization(keyword: str, title: str, expected: bool) -> None:
    """Text and terms are compared after the same normalization."""
    assert matches({"keywords": [keyword]}, title=title) is expected


def test_regex_that_runs_too_long_counts_as_no_match(caplog: pytest.LogCaptureFixture) -> None:
    """A regex that backtracks on one article is stopped, counts as no match, is logged,
    and the other watches still match."""
    settings = Settings(
        watches=[
            {"name": "slow", "query": "/(x+x+)+y/"},  # passes the load-time probes
            {"name": "plain", "keywords": ["Belarus"]},
        ]
    )
    found = compile_watchlist(settings).match(article(title="Belarus", content="x" * 3000))
    assert [m.watch for m in found] == ["plain"]
    assert "regex took too long" in caplog.text and "(x+x+)+y" in caplog.text


def test_hits_report_term_field_and_original_text() -> None:
    """A hit names the term, its field, and the original text at its offsets."""
    (match,) = run(
        {"keywords": ["@lukashenko"]},
        title="Ｓａｉｄ: ЛУКАШЕНКО won",
        summary="Lukashenka again",
    )
    assert [(h.term, h.field, h.text, h.group) for h in match.hits] == [
        ("Лукашенко", "title", "ЛУКАШЕНКО", "lukashenko"),
        ("Lukashenka", "summary", "Lukashenka", "lukashenko"),
    ]
    assert "ЛУКАШЕНКО" in match.snippet


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Luka\u00adshenko… Lukashenko", "Luka\u00adshenko"),  # through a removed character
        ("… … Lukashenko", "Lukashenko"),  # after expanded ellipses
        ("ﬁ ﬁ Lukashenko", "Lukashenko"),  # after ligatures
        ("e\u0301e\u0301 Lukashenko", "Lukashenko"),  # after composed accents
    ],
)
def test_hit_offsets_point_into_the_original(title: str, expected: str) -> None:
    """Hit offsets are offsets into the original field text, whatever normalization did."""
    (match,) = run({"keywords": ["Lukashenko"]}, title=title)
    hit = match.hits[0]
    assert title[hit.start : hit.end] == hit.text == expected


def test_query_hits_leave_out_negated_terms() -> None:
    """A query's hits are its terms that made it hold, never those under NOT."""
    (match,) = run({"query": "Belarus AND NOT hockey AND (leak* OR Minsk)"}, title="Belarus leaks")
    assert [h.term for h in match.hits] == ["Belarus", "leak*"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("The leaked — documents", "leaked — documents"),
        ("documents leaked documents", "leaked documents"),  # a word seen before the hit
    ],
)
def test_phrase_hit_spans_the_phrase(content: str, expected: str) -> None:
    """A phrase hit covers its words and what separates them."""
    (match,) = run({"keywords": ["leaked documents"]}, content=content)
    assert match.hits[0].text == expected


def test_hits_are_the_first_per_term_and_field() -> None:
    """Alerts report each term once per field: its first occurrence."""
    (match,) = run({"keywords": ["Belarus"]}, title="Belarus, Belarus", content="Belarus")
    assert [(h.field, h.start) for h in match.hits] == [("title", 0), ("content", 0)]


def test_snippet_is_short_and_centred_on_the_hit() -> None:
    """The snippet quotes the neighbourhood of the first hit, marked as cut with …."""
    body = "word " * 200 + "Lukashenko " + "tail " * 200
    (match,) = run({"keywords": ["Lukashenko"]}, title="x", content=body)
    assert "Lukashenko" in match.snippet
    assert match.snippet.startswith("…") and match.snippet.endswith("…")
    assert len(match.snippet) < 300


def test_snippet_without_hits_starts_the_summary() -> None:
    """A watch of NOT terms only quotes the start of the summary."""
    (match,) = run({"query": "NOT hockey"}, title="T", summary="Weather today " * 40)
    assert match.hits == () and match.snippet.startswith("Weather today")


def test_watch_without_its_terms_is_not_evaluated() -> None:
    """Only watches whose terms occur (or that match without any) are candidates."""
    settings = Settings(
        terms=GROUPS,
        watches=[
            {"name": "words", "keywords": ["Belarus"]},
            {"name": "negation", "query": "NOT hockey"},
            {"name": "regex", "query": "/minsk/"},
            {"name": "regex-and-word", "query": "/minsk/ AND Belarus"},
        ],
    )
    watchlist = compile_watchlist(settings)
    view = watchlist.view(article(title="Weather today"))
    assert [watchlist.watches[i].name for i in watchlist.candidates(view)] == [
        "negation",
        "regex",
    ]


def test_unvalidated_bad_query_raises_watchlist_error() -> None:
    """Compiling settings that skipped the config checks names the broken query."""
    settings = Settings(watches=[{"name": "w", "query": "Belarus AND"}])
    with pytest.raises(WatchlistError, match=r"watches\.0\.query: expected a term"):
        compile_watchlist(settings)


def test_compiled_watchlist_is_reused_for_the_same_settings() -> None:
    """Compiling the same settings object twice gives the same watchlist (once per load)."""
    settings = Settings(watches=[{"name": "w", "keywords": ["Belarus"]}])
    assert compile_watchlist(settings) is compile_watchlist(settings)


def test_normalize_maps_offsets_back() -> None:
    """Normalized offsets map back to the original characters, even through expansions."""
    text = "ﬁne Straße"
    norm = normalize(text)
    assert norm.text == "fine strasse"
    start = norm.text.index("strasse")
    assert norm.span(start, start + len("strasse")) == (4, 10)
