"""Text as matching sees it, and its words.

:func:`fold` is the text every term is compared with: invisible format characters (soft
hyphen, zero-width space and joiners, bidi marks: Unicode category Cf) removed, NFKC,
Unicode case folding, apostrophe and hyphen look-alikes unified, and Cyrillic ``ё`` read as
``е`` (Russian and Belarusian print both). It runs on whole strings in C: fast enough for
every article.

:func:`normalize` gives the same text with a map back to the original characters, so that
a hit can quote and mark the original. It is slower and is only run on fields that hit.

:func:`words` splits folded text into words: runs of letters, marks and digits; anything
else (spaces, punctuation, apostrophes, hyphens, ``_``) separates words. In scripts written
without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) every character is a word, so
a term matches wherever its characters occur in sequence.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

__all__ = [
    "NormalizedText",
    "Segment",
    "fold",
    "fold_mapped",
    "normalize",
    "split_words",
    "words",
]

_FORMAT = regex.compile(r"\p{Cf}+")

Segment = tuple[int, int, int, int]
"""``(start, length, original start, original length)``: a stretch of normalized text that
does not map one to one onto the original (a removed soft hyphen has length 0, an
ellipsis expanded to three dots has length 3 and original length 1)."""


# Look-alikes unified after NFKC and case folding. Apostrophes (U+02BC is a *letter*, so
# without this "зʼїзд" would be one word and "з'їзд" two), dashes and minus signs, and ё.
_UNIFY = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201b": "'",
    "\u02bc": "'",
    "\u02b9": "'",
    "\u2032": "'",
    "\u2010": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2e3a": "-",
    "\u2e3b": "-",
    "\u0451": "\u0435",  # ё -> е
}
_UNIFY_RE = re.compile("[" + "".join(_UNIFY) + "]")

# Characters common in news text that NFKC changes, replaced beforehand with exactly what
# NFKC gives them: the text then usually passes NFKC's quick check and skips the slow path.
_COMMON_NFKC = (
    ("\u00a0", " "),
    ("\u2026", "..."),
    ("\u202f", " "),
    ("\u2009", " "),
    ("\u2002", " "),
    ("\u2003", " "),
    ("\u2007", " "),
    ("\u200a", " "),
)

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
# Scripts written without spaces between words: each character is a word of its own.
_NO_SPACES = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\u2e80-\u2fdf\u3005-\u3007"
    "\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua9e0-\ua9ff\uaa60-\uaa7f\uf900-\ufaff\U00020000-\U0003ffff"
)
_HAS_NO_SPACES = re.compile(f"[{_NO_SPACES}]")
_WORD_MIXED = regex.compile(f"[{_NO_SPACES}]|(?:(?![{_NO_SPACES}])[\\p{{L}}\\p{{M}}\\p{{N}}])+")


def _unify(match: re.Match[str]) -> str:
    return _UNIFY[match.group()]


def fold(text: str) -> str:
    """The normalized form of ``text``: what terms are compared with."""
    return _fold(text, mapped=False)[0]


def fold_mapped(text: str) -> tuple[str, tuple[Segment, ...] | None]:
    """:func:`fold` of ``text`` and, when they come cheap (only format characters and
    the common expansions such as … change lengths: most text), its segments; None
    means :func:`normalize` must work them out."""
    return _fold(text, mapped=True)


def _fold(text: str, *, mapped: bool) -> tuple[str, tuple[Segment, ...] | None]:
    if text.isascii():  # no format characters; NFKC is the identity; folds like lower()
        return text.lower(), ()
    spots: list[tuple[int, int, int]] = []  # original start, original length, new length
    if mapped:
        spots += [(m.start(), m.end() - m.start(), 0) for m in _FORMAT.finditer(text)]
    work = _FORMAT.sub("", text)
    for char, replacement in _COMMON_NFKC:
        if char in work:
            if mapped and len(replacement) != 1:
                spots += [(m.start(), 1, len(replacement)) for m in re.finditer(char, text)]
            work = work.replace(char, replacement)
    one_to_one = unicodedata.is_normalized("NFKC", work)
    if not one_to_one:
        work = unicodedata.normalize("NFKC", work)
    folded = work.casefold()
    one_to_one = one_to_one and len(folded) == len(work)
    if not unicodedata.is_normalized("NFKC", folded):  # folding can decompose (ǰ -> j + ̌)
        folded = unicodedata.normalize("NFKC", folded)
        one_to_one = False
    if _UNIFY_RE.search(folded):
        folded = _UNIFY_RE.sub(_unify, folded)
    if not (mapped and one_to_one):
        return folded, None
    segments: list[Segment] = []
    shift = 0
    for start, old, new in sorted(spots):
        segments.append((start + shift, new, start, old))
        shift += new - old
    return folded, tuple(segments)


def _word_pattern(folded: str) -> regex.Pattern[str]:
    return _WORD_MIXED if _HAS_NO_SPACES.search(folded) else _WORD


def words(folded: str) -> list[str]:
    """The words of folded text, in order."""
    return _word_pattern(folded).findall(folded)


def split_words(folded: str) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """The words of folded text and where each starts and ends."""
    spans = tuple(m.span() for m in _word_pattern(folded).finditer(folded))
    return tuple(folded[start:end] for start, end in spans), spans


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """``text`` is :func:`fold` of some original; between its ``segments`` (sorted), it
    maps one to one onto the original."""

    text: str
    segments: tuple[Segment, ...] = ()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalized span ``[start, end)``."""
        if not self.segments:
            return start, end
        if end <= start:
            first = self._original(start, at_end=False)
            return first, first
        return self._original(start, at_end=False), self._original(end - 1, at_end=True)

    def _original(self, index: int, *, at_end: bool) -> int:
        found = bisect.bisect_right(self.segments, (index, _BIG)) - 1
        if found < 0:
            return index + (1 if at_end else 0)
        start, length, original, original_length = self.segments[found]
        if index < start + length:
            return original + original_length if at_end else original
        return original + original_length + (index - start - length) + (1 if at_end else 0)


_BIG = 1 << 62
_CHUNK = re.compile(r"\s+|\S+")


def normalize(text: str) -> NormalizedText:
    """:func:`fold` of ``text`` with the map back to the original characters."""
    folded, segments = fold_mapped(text)
    if segments is None:
        segments = _chunked_segments(text)
    return NormalizedText(folded, segments)


def _chunked_segments(text: str) -> tuple[Segment, ...]:
    """Segments worked out chunk by chunk: whitespace never combines with its neighbours
    under NFKC or case folding, and chunks repeat (they are cached)."""
    segments: list[Segment] = []
    position = 0
    for found in _CHUNK.finditer(text):
        piece, local = _chunk(found.group())
        base = found.start()
        segments.extend((position + s, n, base + o, m) for s, n, o, m in local)
        position += len(piece)
    return tuple(segments)


@lru_cache(maxsize=1 << 14)
def _chunk(chunk: str) -> tuple[str, tuple[Segment, ...]]:
    """One chunk folded, with its local segments."""
    whole = fold(chunk)
    segments: list[Segment] = []
    parts: list[str] = []
    position = 0
    for first, last in _clusters(chunk):
        piece = fold(chunk[first:last])
        parts.append(piece)
        if len(piece) != 1 or last - first != 1:
            segments.append((position, len(piece), first, last - first))
        position += len(piece)
    if "".join(parts) != whole:
        # Normalization joined characters across clusters (Hangul jamo, for instance):
        # the chunk maps as a whole.
        return whole, ((0, len(whole), 0, len(chunk)),)
    return whole, tuple(segments)


def _clusters(chunk: str) -> list[tuple[int, int]]:
    """Spans of base characters with the combining and format characters that follow."""
    spans: list[tuple[int, int]] = []
    first = 0
    for index in range(1, len(chunk) + 1):
        if index < len(chunk):
            char = chunk[index]
            if unicodedata.combining(char) or unicodedata.category(char) == "Cf":
                continue
        spans.append((first, index))
        first = index
    return spans
