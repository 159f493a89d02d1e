"""Text normalization for matching: NFKC, Unicode case folding, invisible characters removed.

Offsets matter (alerts report where a term hit and quote a snippet), so normalization
keeps a map from every normalized character back to its position in the original text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Apostrophe and hyphen look-alikes unified so "Lukashenko’s" and "Lukashenko's" agree.
_UNIFY = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2032": "'",
        "\uff07": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\ufe63": "-",
        "\uff0d": "-",
    }
)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """``text`` normalized; ``origin[i]`` is the index in the original of ``text[i]``."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalized span back to the original text."""
        if start >= len(self.origin):
            return (len(self.origin), len(self.origin))
        last = self.origin[end - 1] + 1 if end > start else self.origin[start]
        return self.origin[start], last


def fold(text: str) -> str:
    """The normalized form of ``text`` (without an offset map): for terms and patterns."""
    return normalize(text).text


def normalize(text: str) -> NormalizedText:
    """NFKC, case-fold, drop format characters (soft hyphen, zero-width, bidi marks)."""
    if text.isascii():  # fast path: ASCII has no format characters and folds 1:1
        return NormalizedText(text.lower(), tuple(range(len(text))))
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue
        piece = unicodedata.normalize("NFKC", char).casefold().translate(_UNIFY)
        out.append(piece)
        origin.extend([index] * len(piece))
    joined = "".join(out)
    # Per-character NFKC cannot compose base + combining mark; recompose when it matters.
    composed = unicodedata.normalize("NFC", joined)
    if len(composed) != len(joined):
        return _recompose(text)
    return NormalizedText(joined, tuple(origin))


def _recompose(text: str) -> NormalizedText:
    """Slow path for text with combining sequences: normalize grapheme-ish clusters."""
    out: list[str] = []
    origin: list[int] = []
    start = 0
    for index in range(1, len(text) + 1):
        if index < len(text) and unicodedata.combining(text[index]):
            continue
        cluster = "".join(c for c in text[start:index] if unicodedata.category(c) != "Cf")
        piece = unicodedata.normalize("NFKC", cluster).casefold().translate(_UNIFY)
        piece = unicodedata.normalize("NFC", piece)
        out.append(piece)
        origin.extend([start] * len(piece))
        start = index
    return NormalizedText("".join(out), tuple(origin))
