"""The text pass of story signatures (see ``newswatch.cluster``): an article's words that
count for similarity — NFKC case-folded, links, WordPress footers and page furniture
("share this article", "subscribe", comment and copyright lines…) removed — and its
anchors (numbers, names, quoted words, in text order), in one pass over the text.

Pure; every speed-up here (a literal prefilter before the furniture pattern, sentences cut
without a look-behind, ASCII segments read once) gives exactly what the plain rules give,
which tests/test_cluster.py checks.
"""

from __future__ import annotations

import re
import unicodedata

_UNIFY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_SEGMENT = re.compile(r"\n+|(?<=[.!?…])\s+")  # what _segments cuts at, as a split pattern
_CUT = re.compile(r"\n+|[.!?…](?:\n+|\s+)")  # the same places, found without a look-behind
_WORDPRESS = re.compile(
    r"\bthe post\b.{0,400}?\bappeared first on\b[^\n.]*\.?", re.S | re.IGNORECASE
)
# A quotation: straight, curly, guillemets or low-high quotes (not apostrophes).
_QUOTES = re.compile('["\u201c«„]')  # a quotation may start here
_DIGIT = re.compile(r"\d")
_QUOTED = re.compile(r'"[^"]+"|\u201c[^\u201d"]+[\u201d"]|«[^»]+»|„[^“”"]+[“”"]')
# Phrases that mark a piece of text as page furniture rather than the story. A short
# segment (a line or sentence) holding one is dropped whole; in a long one only the
# phrase goes.
_BOILERPLATE = re.compile(
    r"""
    share\ (?:this|the)\ (?:article|story|post|page)|share\ on\ \w+|click\ to\ share
    | subscribe(?:\ to)?|sign\ up\ (?:for|to)|newsletter|follow\ us
    | source\ link|original\ source|source:|read\ (?:more|the\ full)|continue\ reading
    | click\ here|related\ (?:articles|stories|posts|news)|more\ from|see\ also
    | (?:\d+\ )?comments?\b|leave\ a\ (?:comment|reply)|post\ a\ comment|comment\ policy
    | log\ in\ to|you\ must\ be\ logged|all\ rights\ reserved|copyright|©|\(c\)\ \d{4}
    | advertisement|sponsored|cookies?\ policy|privacy\ policy|terms\ of\ (?:use|service)
    | photo:|image:|getty\ images|file\ photo|watch\ the\ video|listen\ to\ this
    | подпис\w*|поделит\w*|читайте\ также|читать\ далее|источник:|комментари\w*
    | все\ права\ защищены|реклама|падпіс\w*|чытайце\ таксама|крыніца:|підпис\w*
    | читайте\ також|джерело:
    """,
    re.VERBOSE,
)
# A literal that every match of _BOILERPLATE contains, one or more per branch: a text
# holding none of them has no page furniture, which ``in`` finds out far faster than the
# pattern (most texts have none). Keep in step with _BOILERPLATE (tests check it).
_BOILERPLATE_LITERALS = (
    "share ", "click to share", "subscribe", "sign up ", "newsletter", "follow us",
    "source", "read more", "read the full", "continue reading", "click here", "related ",
    "more from", "see also", "comment", "leave a ", "log in to", "you must be logged",
    "all rights reserved", "copyright", "©", "(c) ", "advertisement", "sponsored",
    "cookie", "privacy policy", "terms of ", "photo:", "image:", "getty images",
    "file photo", "watch the video", "listen to this", "подпис", "поделит", "читайте также",
    "читать далее", "источник:", "комментари", "все права защищены", "реклама",
    "падпіс", "чытайце таксама", "крыніца:", "підпис", "читайте також", "джерело:",
)  # fmt: skip
_SHORT_SEGMENT = 25  # words
_SOCIAL = frozenset(
    [
        "facebook",
        "twitter",
        "x",
        "telegram",
        "whatsapp",
        "email",
        "e-mail",
        "linkedin",
        "reddit",
        "vk",
        "viber",
        "pinterest",
        "print",
        "copy",
        "link",
        "messenger",
        "threads",
        "bluesky",
        "mastodon",
    ]
)


def _fold(text: str) -> str:
    """NFKC, case-folded, without format characters (soft hyphens, zero-width joiners)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_UNIFY)
    if text.isascii():
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _may_be_furniture(folded: str) -> bool:
    """False when ``folded`` certainly holds no _BOILERPLATE phrase."""
    return any(literal in folded for literal in _BOILERPLATE_LITERALS)


def _segment_words(segment: str, furnished: bool = True) -> list[str]:
    """The words of one (folded) segment, or none if it is page furniture; ``furnished``
    False: the text it comes from holds no boilerplate phrase."""
    words = _WORD.findall(segment)
    if furnished and _BOILERPLATE.search(segment):
        if len(words) <= _SHORT_SEGMENT:
            return []
        words = _WORD.findall(_BOILERPLATE.sub(" ", segment))
    if words and sum(map(_SOCIAL.__contains__, words)) * 2 >= len(words):
        return []  # a row of share buttons
    return words


def _has_digit(word: str) -> bool:
    return not word.isalpha() and _DIGIT.search(word) is not None


def _anchors(segment: str) -> list[str]:
    """The anchors of one segment (a sentence or a line, as written, not folded): its
    numbers, its capitalised words but the first (names, in any script that has case)
    and the words inside its quotations, folded, in text order. Rewriters leave these
    alone."""
    if not _QUOTES.search(segment):  # the common case, on the words alone
        words = _WORD.findall(segment)
        if _DIGIT.search(segment) is None:  # no word has a digit: names alone
            return [_fold(w) for w in words[1:] if w[0].isupper()]
        found = [_fold(w) for w in words[1:] if w[0].isupper() or _has_digit(w)]
        if words and _has_digit(words[0]):
            found.insert(0, _fold(words[0]))
        return found
    quoted = [m.span() for m in _QUOTED.finditer(segment)]
    found = []
    for n, m in enumerate(_WORD.finditer(segment)):
        word = m.group()
        if (
            (n and word[0].isupper())
            or _has_digit(word)
            or any(a <= m.start() < b for a, b in quoted)
        ):
            found.append(_fold(word))
    return found


def _segments(text: str) -> list[str]:
    """``_SEGMENT.split(text)``: the lines and sentences of ``text`` (a sentence keeps its
    final mark), found several times faster than the look-behind pattern finds them."""
    pieces = []
    start = 0
    for cut in _CUT.finditer(text):
        end = cut.start() if text[cut.start()] == "\n" else cut.start() + 1
        pieces.append(text[start:end])
        start = cut.end()
    pieces.append(text[start:])
    return pieces


def _text(text: str) -> tuple[list[str], list[str]]:
    """The words of ``text`` that count for similarity (folded, boilerplate and links
    removed, one-letter words dropped) and its anchors, in one pass."""
    text = unicodedata.normalize("NFKC", text).translate(_UNIFY)
    lowered = text.lower()
    if "appeared first on" in lowered:  # both patterns need these words: skip them if absent
        text = _WORDPRESS.sub(" ", text)
    if "://" in text or "www." in lowered:
        text = _URL.sub(" ", text)
    words: list[str] = []
    anchors: list[str] = []
    furnished = _may_be_furniture(_fold(text))
    for segment in _segments(text):
        if not furnished and segment.isascii() and not _QUOTES.search(segment):
            _plain_segment(segment, words, anchors)
            continue
        folded = _fold(segment)
        kept = [w for w in _segment_words(folded, furnished) if len(w) > 1 or w.isdigit()]
        if kept:
            words += kept
            anchors += (a for a in _anchors(segment) if len(a) > 1 or a.isdigit())
    return words, anchors


def _plain_segment(segment: str, words: list[str], anchors: list[str]) -> None:
    """What ``_text`` does with a segment of ASCII text without quotes, in a text without
    page furniture, from one list of its words: folding ASCII is lower-casing, which moves
    no word boundary, so the folded words are the words lower-cased."""
    raw = _WORD.findall(segment)
    lowered = [w.lower() for w in raw]
    if not lowered or sum(map(_SOCIAL.__contains__, lowered)) * 2 >= len(lowered):
        return  # no words, or a row of share buttons
    kept = [w for w in lowered if len(w) > 1 or w.isdigit()]
    if not kept:
        return
    words += kept
    if _DIGIT.search(segment) is None:  # no word has a digit: names alone
        marks = [w for w in raw[1:] if w[0].isupper()]
    else:
        marks = [w for n, w in enumerate(raw) if (n and w[0].isupper()) or _has_digit(w)]
    anchors += (a for a in map(str.lower, marks) if len(a) > 1 or a.isdigit())


def tokens(text: str) -> list[str]:
    """The words of ``text`` that count for similarity: folded, boilerplate and links
    removed, one-letter words (the s of "Lukashenko's") dropped."""
    return _text(text)[0]


def anchors(text: str) -> list[str]:
    """The anchors of ``text`` in order: numbers, names, quoted words (see ``_anchors``),
    from the segments that are not page furniture."""
    return _text(text)[1]
