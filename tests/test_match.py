"""The watchlist matcher: keywords, phrases, prefixes, groups, exclusions, normalization."""

from __future__ import annotations

import pytest

from newswatch.config import Settings
from newswatch.match import compile_watchlist, normalize
from newswatch.models import Article

GROUPS = {
    "belarus": ["Belarus", "Беларусь", "Белоруссия", "Беларусі"],
    "lukashenko": ["Lukashenko", "Lukashenka", "Лукашенко", "Лукашэнка"],
}


def matches(
    keywords: list[str], title: str, exclude: list[str] | None = None, summary: str = ""
) -> bool:
    settings = Settings(
        terms=GROUPS, watches=[{"name": "w", "keywords": keywords, "exclude": exclude or []}]
    )
    article = Article(
        feed_url="f", entry_key="1", link=None, link_key=None, title=title, summary=summary
    )
    return bool(compile_watchlist(settings).match(article))


@pytest.mark.parametrize(
    ("keywords", "title", "expected"),
    [
        (["Belarus"], "News from Belarus today", True),
        (["Belarus"], "BELARUS votes", True),
        (["Belarus"], "Belarusian opposition", False),  # whole words only
        (["Belarus*"], "Belarusian opposition", True),  # trailing * is a prefix
        (["leak*"], "Documents leaked", True),
        (["leak*"], "A bleak day", False),  # a prefix still starts at a word boundary
        (["leaked documents"], "leaked\n documents", True),  # any run of spaces
        (["leaked documents"], "leaked — documents", True),  # or punctuation
        (["leaked documents"], "leaked secret documents", False),
        (["@lukashenko"], "Лукашенко выступил", True),  # a @group variant
        (["@lukashenko"], "ЛУКАШЭНКА сказаў", True),  # Cyrillic case folding
        (["@belarus"], "У Беларусі", True),
        (["Lukashenko"], "Lukashenko’s speech", True),  # typographic apostrophe
        (["Lukashenko"], "Luka\u00adshenko spoke", True),  # soft hyphen removed
        (["Lukashenko"], "Luka\u200bshenko spoke", True),  # zero-width space removed
        (["Belarus"], "Ｂｅｌａｒｕｓ", True),  # NFKC: full-width letters
        (["straße"], "STRASSE closed", True),  # case folding, not lower()
        (["no"], "Why no one came", True),  # YAML-ish words are just words
    ],
)
def test_keyword_matching(keywords: list[str], title: str, expected: bool) -> None:
    """Each keyword form matches exactly the texts it should."""
    assert matches(keywords, title) is expected


def test_exclude_vetoes_a_match() -> None:
    """An exclude term anywhere in the article suppresses the watch."""
    assert not matches(
        ["Belarus"], "Belarus wins", exclude=["ice hockey"], summary="An ice-hockey final"
    )
    assert matches(["Belarus"], "Belarus wins", exclude=["ice hockey"], summary="A final")


def test_hits_report_term_field_and_original_text() -> None:
    """A hit names the term, its field, and the original text at its offsets."""
    settings = Settings(terms=GROUPS, watches=[{"name": "w", "keywords": ["@lukashenko"]}])
    article = Article(
        feed_url="f",
        entry_key="1",
        link=None,
        link_key=None,
        title="Ｓａｉｄ: ЛУКАШЕНКО won",
        summary="Lukashenka again",
    )
    (match,) = compile_watchlist(settings).match(article)
    assert [(h.term, h.field, h.text, h.group) for h in match.hits] == [
        ("Лукашенко", "title", "ЛУКАШЕНКО", "lukashenko"),
        ("Lukashenka", "summary", "Lukashenka", "lukashenko"),
    ]
    assert article.title[match.hits[0].start : match.hits[0].end] == "ЛУКАШЕНКО"
    assert "ЛУКАШЕНКО" in match.snippet


def test_snippet_is_short_and_centred_on_the_hit() -> None:
    """The snippet quotes the neighbourhood of the first hit, marked as cut with …."""
    body = "word " * 200 + "Lukashenko " + "tail " * 200
    settings = Settings(watches=[{"name": "w", "keywords": ["Lukashenko"]}])
    article = Article(
        feed_url="f", entry_key="1", link=None, link_key=None, title="x", content=body
    )
    (match,) = compile_watchlist(settings).match(article)
    assert "Lukashenko" in match.snippet
    assert match.snippet.startswith("…") and match.snippet.endswith("…")
    assert len(match.snippet) < 300


def test_normalize_maps_offsets_back() -> None:
    """Normalized offsets map back to the original characters, even through expansions."""
    text = "ﬁne Straße"
    norm = normalize(text)
    assert norm.text == "fine strasse"
    start = norm.text.index("strasse")
    assert norm.span(start, start + len("strasse")) == (4, 10)
