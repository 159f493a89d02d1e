"""Normalization and words: the table of what is unified, and the properties that the
chunk-by-chunk reading of articles relies on (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.config import Settings
from newswatch.match import compile_watchlist, fold, normalize
from newswatch.match.normalize import split_words, words
from newswatch.models import Article

# Characters that normalization treats specially, to mix into generated text.
TRICKY = list(
    "aZé\u0301 \u00a0\u2009\u00ad\u200b\u200d\u200f\u202eЁёЙ’ʼ'`-—–−…ﬁßΐǰ한ᄀ\u1161北京ไ\u0e31"
    "नि\u093f_1²Ⅸ\t\nＢ\ufeff"
)
TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80),
    st.text(alphabet=st.sampled_from(TRICKY), max_size=60),
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Lukashenko", "lukashenko"),
        ("ЛУКАШЭНКА", "лукашэнка"),
        ("Straße", "strasse"),  # full case folding
        ("Ｂｅｌａｒｕｓ", "belarus"),  # NFKC
        ("ﬁne", "fine"),
        ("x²", "x2"),
        ("Luka\u00adshenko", "lukashenko"),  # soft hyphen
        ("Luka\u200bshen\u200dko", "lukashenko"),  # zero-width space and joiner
        ("\u200fMinsk\u202e", "minsk"),  # bidi marks
        ("Lukashenko’s", "lukashenko's"),  # apostrophes
        ("зʼїзд", "з'їзд"),
        ("Минск–Москва—Киев", "минск-москва-киев"),  # dashes
        ("Пётр", "петр"),  # ё is е
        ("a\u00a0b", "a b"),  # no-break space
        ("wait…", "wait..."),
        ("e\u0301", "é"),  # composed
    ],
)
def test_fold(text: str, folded: str) -> None:
    """fold() applies NFKC, case folding, Cf removal and the look-alike unification."""
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lukashenko's speech", ["lukashenko", "s", "speech"]),
        ("snake_case", ["snake", "case"]),  # _ separates words
        ("G7-2024", ["g7", "2024"]),
        ("我在北京", ["我", "在", "北", "京"]),  # a word per character without spaces
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),  # vowel signs stay in the word
        ("Белару\u0301сь", ["белару\u0301сь"]),  # a stress mark stays in the word
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    """Words are runs of letters, marks and digits; characters are words in CJK/Thai."""
    assert words(fold(text)) == expected


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_fold_is_idempotent(text: str) -> None:
    """Folding folded text changes nothing."""
    assert fold(fold(text)) == fold(text)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_normalize_agrees_with_fold(text: str) -> None:
    """The offset-keeping normalization produces exactly the folded text."""
    assert normalize(text).text == fold(text)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_word_spans_map_inside_the_original(text: str) -> None:
    """Every word maps back to a span of the original text."""
    norm = normalize(text)
    for start, end in split_words(norm.text)[1]:
        first, last = norm.span(start, end)
        assert 0 <= first < last <= len(text)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_chunks_hold_the_same_words_as_the_whole_text(text: str) -> None:
    """Reading text chunk by chunk (between whitespace) finds the same words as folding
    it whole: what the cached chunk index relies on."""
    by_chunk = [w for chunk in text.split() for w in words(fold(chunk))]
    assert by_chunk == words(fold(text))


WATCHES = [
    {"name": "kw", "keywords": ["Belarus", "leaked documents", "@g", "leak*"]},
    {"name": "q", "query": '(@g OR "a b") AND NOT c NEAR/2 d', "languages": ["ru", "be"]},
    {"name": "near", "query": "title:(x NEAR/0 y) OR /[а-я]+ь/", "languages": ["en", "uk"]},
    {"name": "re", "keywords": ["/(\\w+) \\1/"], "exclude": ["summary:zz*"]},
]
WATCHLIST = compile_watchlist(Settings(terms={"g": ["Беларусь", "ß", "北京"]}, watches=WATCHES))


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT, TEXT)
def test_matching_never_raises(title: str, summary: str, content: str) -> None:
    """Any text at all can be matched, and every hit quotes its original text."""
    article = Article(
        feed_url="f",
        entry_key="1",
        link=None,
        link_key=None,
        title=title,
        summary=summary,
        content=content,
    )
    for match in WATCHLIST.match(article):
        for hit in match.hits:
            assert getattr(article, hit.field)[hit.start : hit.end] == hit.text


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT)
def test_a_term_between_spaces_is_always_found(before: str, after: str) -> None:
    """Whatever surrounds it, a term standing between spaces matches and is quoted exactly."""
    title = f"{before} Belarus {after}"
    article = Article(feed_url="f", entry_key="1", link=None, link_key=None, title=title)
    (match,) = [m for m in WATCHLIST.match(article) if m.watch == "kw"]
    hit = next(h for h in match.hits if h.term == "Belarus")
    assert title[hit.start : hit.end] == hit.text
    assert fold(hit.text) == "belarus"
