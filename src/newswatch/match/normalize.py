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

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

__all__ = ["NormalizedText", "fold", "normalize", "word_spans", "words"]

_FORMAT = regex.compile(r"\p{Cf}+")

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
    if text.isascii():  # no format characters; NFKC is the identity; folds like lower()
        return text.lower()
    text = _FORMAT.sub("", text)
    for char, replacement in _COMMON_NFKC:
        if char in text:
            text = text.replace(char, replacement)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    if not unicodedata.is_normalized("NFKC", text):  # folding can decompose (ǰ -> j + ̌)
        text = unicodedata.normalize("NFKC", text)
    if _UNIFY_RE.search(text):
        text = _UNIFY_RE.sub(_unify, text)
    return text


def words(folded: str) -> list[str]:
    """The words of folded text, in order."""
    if _HAS_NO_SPACES.search(folded):
        return _WORD_MIXED.findall(folded)
    return _WORD.findall(folded)


def word_spans(folded: str) -> list[tuple[int, int]]:
    """Where each word of :func:`words` starts and ends in ``folded``."""
    pattern = _WORD_MIXED if _HAS_NO_SPACES.search(folded) else _WORD
    return [m.span() for m in pattern.finditer(folded)]


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """``text`` is :func:`fold` of some original; ``starts[i]``/``ends[i]`` delimit the
    original characters that ``text[i]`` came from (``None``: one to one)."""

    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalized span ``[start, end)``."""
        if self.starts is None or self.ends is None:
            return start, end
        size = len(self.starts)
        if size == 0 or start >= size:
            last = self.ends[-1] if size else 0
            return last, last
        return self.starts[start], self.ends[max(end - 1, start)]


_CHUNK = re.compile(r"\s+|\S+")


def normalize(text: str) -> NormalizedText:
    """:func:`fold` of ``text`` with the map back to the original characters.

    Whitespace never combines with its neighbours under NFKC or case folding, so the text
    is normalized chunk by chunk (chunks repeat: they are cached) and the maps joined.
    """
    if text.isascii():
        return NormalizedText(text.lower())
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for found in _CHUNK.finditer(text):
        base = found.start()
        piece, local_starts, local_ends = _chunk(found.group())
        pieces.append(piece)
        if local_starts is None or local_ends is None:
            starts.extend(range(base, base + len(piece)))
            ends.extend(range(base + 1, base + len(piece) + 1))
        else:
            starts.extend(base + i for i in local_starts)
            ends.extend(base + i for i in local_ends)
    return NormalizedText("".join(pieces), tuple(starts), tuple(ends))


_Local = tuple[int, ...] | None


@lru_cache(maxsize=1 << 16)
def _chunk(chunk: str) -> tuple[str, _Local, _Local]:
    """One chunk folded, with its local map (None when it maps one to one)."""
    whole = fold(chunk)
    starts: list[int] = []
    ends: list[int] = []
    parts: list[str] = []
    for first, last in _clusters(chunk):
        piece = fold(chunk[first:last])
        parts.append(piece)
        starts.extend([first] * len(piece))
        ends.extend([last] * len(piece))
    if "".join(parts) != whole:
        # Normalization joined characters across clusters (Hangul jamo, for instance):
        # map proportionally; the hit still lands on the right chunk.
        size = max(len(whole), 1)
        starts = [min(i * len(chunk) // size, len(chunk) - 1) for i in range(len(whole))]
        ends = [min(s + 1, len(chunk)) for s in starts]
    if len(whole) == len(chunk) and starts == list(range(len(chunk))):
        return whole, None, None
    return whole, tuple(starts), tuple(ends)


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
