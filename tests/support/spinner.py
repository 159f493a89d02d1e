"""A small, reproducible word spinner for the labelled story set: what a content farm's
rewriting tool does to a story — synonyms swapped in, word for word and phrase for phrase,
throughout the text — made from a fixed table (``tests/data/spinner/synonyms.txt``) and a
seeded choice of which places to swap, so every run makes the same copies.

Like the tools it imitates, it leaves names (capitalised words inside a sentence), numbers
and quotations alone: those are what the NOTES measured surviving a real spin.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "data" / "spinner" / "synonyms.txt"
_WORD = re.compile(r"\w+(?:[-']\w+)*")
_QUOTE = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»")


@cache
def synonyms() -> dict[tuple[str, ...], str]:
    """The table: a phrase (its words, lower case) -> its replacement. Entries that map a
    phrase to itself are the tool's "no synonym" and are left out."""
    table: dict[tuple[str, ...], str] = {}
    for line in TABLE.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        phrase, _, replacement = (part.strip() for part in line.partition("="))
        if phrase != replacement:
            table[tuple(phrase.split())] = replacement
    return table


@dataclass(frozen=True)
class Spun:
    """A spun text and how much of it was swapped."""

    text: str
    swapped: int  # words of the original replaced
    words: int  # words in the original

    @property
    def rate(self) -> float:
        return self.swapped / self.words if self.words else 0.0


def _protected(text: str) -> set[int]:
    """Start offsets of the words inside quotations."""
    return {m.start() for q in _QUOTE.finditer(text) for m in _WORD.finditer(text, *q.span())}


def _places(text: str) -> list[tuple[int, int, str, int]]:
    """Every place the table could swap: (start, end, replacement, words replaced),
    longest phrase first at each word, skipping names and quotations."""
    table = synonyms()
    longest = max(len(k) for k in table)
    words = list(_WORD.finditer(text))
    quoted = _protected(text)
    places, i = [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            run = words[i : i + n]
            key = tuple(w.group().lower() for w in run)
            if key in table and not any(w.start() in quoted for w in run):
                if _is_name(text, run[0]):
                    break
                places.append((run[0].start(), run[-1].end(), table[key], n))
                i += n - 1
                break
        i += 1
    return places


def _is_name(text: str, word: re.Match[str]) -> bool:
    """A capitalised word inside a sentence (a name), not one that starts a sentence."""
    if not word.group()[0].isupper():
        return False
    before = text[: word.start()].rstrip()
    return bool(before) and before[-1] not in ".!?…\n"


def spin(text: str, rate: float, seed: int | str) -> Spun:
    """``text`` with about ``rate`` of its words swapped for the table's synonyms (as many
    as the table allows, if fewer), the places chosen by ``seed``."""
    total = len(_WORD.findall(text))
    places = _places(text)
    rng = random.Random(f"{seed}")
    rng.shuffle(places)
    chosen, swapped = [], 0
    for place in places:
        if swapped >= rate * total:
            break
        chosen.append(place)
        swapped += place[3]
    out, at = [], 0
    for start, end, replacement, _ in sorted(chosen):
        original = text[start:end]
        if original[0].isupper():
            replacement = replacement[0].upper() + replacement[1:]
        out += [text[at:start], replacement]
        at = end
    return Spun("".join(out) + text[at:], swapped, total)
