"""The word index of a compiled watchlist: from an article's words to the watches' atoms.

An *atom* is one distinct watch word: ``(folded word, prefix or not, languages)``. A word
of an article stands for the atoms it equals, starts with (prefixes), or shares a key
with in one of the atom's languages (inflected forms, see :mod:`languages`).

Articles are read chunk by chunk: the runs of the *original* text between whitespace.
Words never span whitespace, and neither NFKC nor case folding reaches across it, so a
chunk can be folded and split into words on its own. What a chunk stands for is cached,
so once the vocabulary of the feeds is known, reading an article costs a ``str.split``
and a few set operations; folding happens only for chunks never seen before, and only
chunks that hold atoms are looked at any further.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

from newswatch.match import languages as lang
from newswatch.match.normalize import NormalizedText, fold_mapped, normalize, split_words

__all__ = ["EMPTY", "Chunk", "WordIndex"]

EMPTY: Final[frozenset[int]] = frozenset()
INFLECT_MIN: Final = 3  # shorter words are matched only as written
_CACHE_LIMIT: Final = 200_000  # chunks (and words) remembered; then the cache starts over
_LENGTH_SLACK: Final = (-3, 6)  # inflected forms are this much shorter/longer than a word


@dataclass(frozen=True, slots=True)
class Chunk:
    """A chunk of text that holds atoms: its words, where they are, what they stand for."""

    words: tuple[str, ...]  # folded
    spans: tuple[tuple[int, int], ...]  # where each word is in the original chunk
    atoms: tuple[frozenset[int], ...]  # per word
    union: frozenset[int]


class WordIndex:
    """Atoms, and what each chunk of article text stands for (cached)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, bool, tuple[str, ...]], int] = {}
        self.exact: dict[str, set[int]] = {}
        self.prefixes: dict[str, set[int]] = {}
        self.keyed: dict[tuple[str, str], set[int]] = {}
        # A word of an article is analysed in a language only when its first two letters
        # and its length fit a watch word's: the analysis is the costly part.
        self.gates: dict[str, set[tuple[str, int]]] = {}
        self._prefix_lengths: list[int] = []
        self._words: dict[str, frozenset[int]] = {}
        self._chunks: dict[str, Chunk] = {}  # cached chunks that hold atoms
        # Most chunks are one word that stands for no atom: an article's chunks less those
        # (one set difference) are the few a layout reads. Word positions are chunk numbers
        # shifted by the chunks of other than one word (a dash has none).
        self.plain: set[str] = set()  # cached chunks of one word that stands for no atom
        self.counts: dict[str, int] = {}  # the word count of every other cached chunk
        self.positive: set[str] = set()  # the keys of _chunks (a set intersects fast)
        self.generation = 0  # how many times the cache started over
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """How many atoms there are."""
        return len(self._ids)

    def atom(self, word: str, prefix: bool, languages: tuple[str, ...]) -> int:
        """The id of the atom for a folded watch word (created on first use)."""
        languages = () if prefix or len(word) < INFLECT_MIN else languages
        key = (word, prefix, languages)
        found = self._ids.get(key)
        if found is not None:
            return found
        atom = len(self._ids)
        self._ids[key] = atom
        if prefix:
            self.prefixes.setdefault(word, set()).add(atom)
            if len(word) not in self._prefix_lengths:
                self._prefix_lengths = sorted([*self._prefix_lengths, len(word)])
            return atom
        self.exact.setdefault(word, set()).add(atom)
        low, high = _LENGTH_SLACK
        for code in languages:
            for key_ in lang.keys(code, word):
                self.keyed.setdefault((code, key_), set()).add(atom)
            gate = self.gates.setdefault(code, set())
            sizes = range(len(word) + low, len(word) + high + 1)
            gate.update((start, n) for start in lang.beginnings(code, word) for n in sizes)
        return atom

    # -- reading articles ------------------------------------------------------------

    def lookup(self, distinct: set[str]) -> None:
        """Make sure every chunk in ``distinct`` is cached (in :attr:`plain`, or counted in
        :attr:`counts` and, if it holds atoms, in :attr:`positive`)."""
        missing = distinct.difference(self.plain).difference(self.counts)
        if not missing:
            return
        with self._lock:
            if len(self.plain) + len(self.counts) + len(missing) > _CACHE_LIMIT:
                self.generation += 1
                self._chunks.clear()
                self.plain.clear()
                self.counts.clear()
                self._words.clear()
                self.positive.clear()
                missing = distinct
            for text in missing:  # counts last: a chunk counted is fully cached
                found = self._read(text)
                if isinstance(found, Chunk):
                    self._chunks[text] = found
                    self.positive.add(text)
                    self.counts[text] = len(found.words)
                elif found == 1:
                    self.plain.add(text)
                else:
                    self.counts[text] = found

    def chunk(self, text: str) -> Chunk | int:
        """What the chunk ``text`` stands for: a :class:`Chunk`, or its word count."""
        found = self._chunks.get(text)
        if found is not None:
            return found
        count = self.counts.get(text)
        if count is not None:
            return count
        return 1 if text in self.plain else self._read(text)

    def count(self, text: str) -> int:
        """How many words the chunk ``text`` holds."""
        found = self.counts.get(text)
        if found is not None:
            return found
        if text in self.plain:
            return 1
        info = self._read(text)
        return info if isinstance(info, int) else len(info.words)

    def _read(self, text: str) -> Chunk | int:
        folded, segments = fold_mapped(text)
        found_words, spans = split_words(folded)
        atoms = tuple(self.atoms(word) for word in found_words)
        if not any(atoms):
            return len(found_words)
        aligned = NormalizedText(folded, normalize(text).segments if segments is None else segments)
        original = tuple(aligned.span(start, end) for start, end in spans)
        return Chunk(found_words, original, atoms, frozenset().union(*atoms))

    def atoms(self, word: str) -> frozenset[int]:
        """The atoms the folded ``word`` stands for."""
        found = self._words.get(word)
        if found is None:
            found = self._atoms_of(word)
            if len(self._words) < _CACHE_LIMIT:
                self._words[word] = found
        return found

    def _atoms_of(self, word: str) -> frozenset[int]:
        found: set[int] = set()
        exact = self.exact.get(word)
        if exact:
            found.update(exact)
        for size in self._prefix_lengths:
            if size > len(word):
                break
            hit = self.prefixes.get(word[:size])
            if hit:
                found.update(hit)
        if len(word) >= INFLECT_MIN:
            gate = (word[:2], len(word))
            for code, allowed in self.gates.items():
                if gate in allowed:
                    for key in lang.keys(code, word):
                        hit = self.keyed.get((code, key))
                        if hit:
                            found.update(hit)
        return frozenset(found) if found else EMPTY
