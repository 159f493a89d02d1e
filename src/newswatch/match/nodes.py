"""Compiled query nodes and the article view they are evaluated on.

A :class:`View` holds one article as matching sees it: per field, the folded text, its
words, and which atoms occur. Word positions, word offsets, the map back to the original
text and /regex/ results are worked out only when a node asks for them, so an article
that triggers no watch costs a fold, a split and a few set operations.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import regex

from newswatch.match.normalize import NormalizedText, fold, normalize, word_spans, words
from newswatch.match.query import FIELDS
from newswatch.models import Article, Hit

if TYPE_CHECKING:
    from newswatch.match.engine import WordIndex

__all__ = [
    "EMPTY",
    "AllOf",
    "AnyOf",
    "CNode",
    "NearNode",
    "NotNode",
    "Occurrence",
    "TermNode",
    "View",
    "collect_hits",
    "positive_terms",
]

log = logging.getLogger(__name__)

EMPTY: Final[frozenset[int]] = frozenset()
REGEX_TIMEOUT: Final = 0.05  # seconds a /regex/ may spend on one field of one article
MAX_REGEX_HITS: Final = 100
_FIELD_ORDER: Final = {name: i for i, name in enumerate(FIELDS)}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Where a term occurs: words ``first..last`` of ``field``; for a /regex/ also its
    character span in the folded text (else that is derived from the words)."""

    term: TermNode
    field: str
    first: int
    last: int
    start: int = -1
    end: int = -1


# ------------------------------------------------------------------ the view


@dataclass(eq=False)
class View:
    """One article, folded and split, with the atoms of each field."""

    raw: dict[str, str]
    folded: dict[str, str]
    tokens: dict[str, list[str]]
    present: dict[str, set[int]]
    index: WordIndex | None = None
    positive: dict[str, set[str]] = field(default_factory=dict)
    _positions: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    _spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    _aligned: dict[str, NormalizedText] = field(default_factory=dict)
    _regex: dict[tuple[int, str], list[tuple[int, int]]] = field(default_factory=dict)
    _timeouts: list[str] = field(default_factory=list)

    @classmethod
    def empty(cls) -> View:
        """An article with no text at all."""
        return cls({}, {}, {}, {})

    @classmethod
    def of(cls, article: Article, index: WordIndex) -> View:
        """Fold and split ``article``'s fields and look their words up in ``index``."""
        raw = {name: text for name in FIELDS if (text := getattr(article, name))}
        return cls.of_fields(raw, index)

    @classmethod
    def of_fields(cls, raw: Mapping[str, str], index: WordIndex) -> View:
        """Like :meth:`of` for field texts."""
        folded = {name: fold(text) for name, text in raw.items()}
        tokens = {name: words(text) for name, text in folded.items()}
        distinct = {name: set(found) for name, found in tokens.items()}
        index.lookup(set().union(*distinct.values()))
        positive = {name: found & index.positive for name, found in distinct.items()}
        present: dict[str, set[int]] = {}
        for name, found in positive.items():
            atoms: set[int] = set()
            for word in found:
                atoms.update(index.atoms(word))
            present[name] = atoms
        return cls(dict(raw), folded, tokens, present, index, positive)

    def atoms_present(self) -> set[int]:
        """Every atom that occurs in some field."""
        return set().union(*self.present.values()) if self.present else set()

    def atoms_at(self, name: str, position: int) -> frozenset[int]:
        """The atoms of the word at ``position`` in field ``name``."""
        word = self.tokens[name][position]
        if self.index is None or word not in self.positive.get(name, ()):
            return EMPTY
        return self.index.atoms(word)

    def positions(self, name: str) -> dict[int, list[int]]:
        """Field ``name``: atom -> the word positions where it occurs."""
        found = self._positions.get(name)
        if found is None:
            found = {}
            positive = self.positive.get(name, set())
            if positive and self.index is not None:
                for i, word in enumerate(self.tokens[name]):
                    if word in positive:
                        for atom in self.index.atoms(word):
                            found.setdefault(atom, []).append(i)
            self._positions[name] = found
        return found

    def spans(self, name: str) -> list[tuple[int, int]]:
        """Field ``name``: where each word starts and ends in the folded text."""
        found = self._spans.get(name)
        if found is None:
            found = self._spans[name] = word_spans(self.folded[name])
        return found

    def regex_spans(self, pattern: regex.Pattern[str], name: str) -> list[tuple[int, int]]:
        """Non-empty matches of ``pattern`` in field ``name`` (none if it runs too long)."""
        text = self.folded.get(name)
        if not text:
            return []
        key = (id(pattern), name)
        found = self._regex.get(key)
        if found is None:
            found = []
            try:
                for m in pattern.finditer(text, timeout=REGEX_TIMEOUT):
                    if m.end() > m.start():
                        found.append(m.span())
                        if len(found) >= MAX_REGEX_HITS:
                            break
            except TimeoutError:
                log.warning(
                    "regex took too long, counted as no match pattern=/%s/ field=%s",
                    pattern.pattern,
                    name,
                )
                self._timeouts.append(pattern.pattern)
                found = []
            self._regex[key] = found
        return found

    def word_at(self, name: str, char: int) -> int:
        """The position of the word at or after folded offset ``char``."""
        starts = [s for s, _ in self.spans(name)]
        return max(0, min(bisect.bisect_right(starts, char) - 1, len(starts) - 1))

    def char_span(self, occurrence: Occurrence) -> tuple[int, int]:
        """The occurrence's span in the folded text of its field."""
        if occurrence.start >= 0:
            return occurrence.start, occurrence.end
        spans = self.spans(occurrence.field)
        return spans[occurrence.first][0], spans[occurrence.last][1]

    def original_span(self, occurrence: Occurrence) -> tuple[int, int]:
        """The occurrence's span in the original text of its field."""
        name = occurrence.field
        aligned = self._aligned.get(name)
        if aligned is None:
            aligned = self._aligned[name] = normalize(self.raw[name])
        start, end = self.char_span(occurrence)
        return aligned.span(start, end)

    def hit(self, occurrence: Occurrence) -> Hit:
        """The occurrence as a :class:`Hit` on the original text."""
        start, end = self.original_span(occurrence)
        term = occurrence.term
        text = self.raw[occurrence.field][start:end]
        return Hit(term.label, occurrence.field, start, end, text, term.group)

    def hits(self, found: Sequence[Occurrence], limit: int | None = None) -> list[Hit]:
        """Hits for ``found``, in field and text order, at most ``limit`` per term and
        field, without repeats."""
        ordered = sorted(found, key=lambda o: (_FIELD_ORDER[o.field], self.char_span(o)))
        counts: dict[tuple[str, str | None, str], int] = {}
        seen: set[tuple[str, str | None, str, int]] = set()
        result: list[Hit] = []
        for occurrence in ordered:
            term = occurrence.term
            key = (term.label, term.group, occurrence.field)
            start = self.char_span(occurrence)[0]
            if (*key, start) in seen or (limit is not None and counts.get(key, 0) >= limit):
                continue
            seen.add((*key, start))
            counts[key] = counts.get(key, 0) + 1
            result.append(self.hit(occurrence))
        return result


# ------------------------------------------------------------------ nodes


@dataclass(frozen=True, eq=False, slots=True)
class TermNode:
    """A word, phrase or prefix (atoms in a row) or a /regex/, in some fields."""

    label: str  # as the watch wrote it (a variant, for @groups)
    group: str | None
    fields: tuple[str, ...]
    atoms: tuple[int, ...]
    pattern: regex.Pattern[str] | None
    source: str
    offset: int

    def holds(self, view: View) -> bool:
        if self.pattern is not None:
            return any(view.regex_spans(self.pattern, f) for f in self.fields)
        if len(self.atoms) == 1:
            atom = self.atoms[0]
            return any(atom in view.present.get(f, EMPTY) for f in self.fields)
        if not any(all(a in view.present.get(f, EMPTY) for a in self.atoms) for f in self.fields):
            return False
        return bool(self.occurrences(view))

    def occurrences(self, view: View) -> list[Occurrence]:
        found: list[Occurrence] = []
        for name in self.fields:
            if name not in view.folded:
                continue
            if self.pattern is not None:
                for start, end in view.regex_spans(self.pattern, name):
                    first, last = view.word_at(name, start), view.word_at(name, end - 1)
                    found.append(Occurrence(self, name, first, last, start, end))
                continue
            if not all(a in view.present.get(name, EMPTY) for a in self.atoms):
                continue
            found += self._phrase(view, name)
        return found

    def _phrase(self, view: View, name: str) -> list[Occurrence]:
        first, rest = self.atoms[0], self.atoms[1:]
        size = len(view.tokens[name])
        found = []
        for i in view.positions(name).get(first, ()):
            if i + len(rest) >= size and rest:
                continue
            if all(atom in view.atoms_at(name, i + k + 1) for k, atom in enumerate(rest)):
                found.append(Occurrence(self, name, i, i + len(rest)))
        return found


@dataclass(frozen=True, eq=False, slots=True)
class AnyOf:
    """OR, and @group (any of its variants)."""

    children: tuple[CNode, ...]
    source: str
    offset: int

    def holds(self, view: View) -> bool:
        return any(child.holds(view) for child in self.children)

    def occurrences(self, view: View) -> list[Occurrence]:
        return [o for child in self.children for o in child.occurrences(view)]


@dataclass(frozen=True, eq=False, slots=True)
class AllOf:
    """AND (and juxtaposition)."""

    children: tuple[CNode, ...]
    source: str
    offset: int

    def holds(self, view: View) -> bool:
        return all(child.holds(view) for child in self.children)

    def occurrences(self, view: View) -> list[Occurrence]:  # pragma: no cover - NEAR refuses AND
        return [o for child in self.children for o in child.occurrences(view)]


@dataclass(frozen=True, eq=False, slots=True)
class NotNode:
    child: CNode
    source: str
    offset: int

    def holds(self, view: View) -> bool:
        return not self.child.holds(view)

    def occurrences(self, view: View) -> list[Occurrence]:  # pragma: no cover - NEAR refuses NOT
        return []


@dataclass(frozen=True, eq=False, slots=True)
class NearNode:
    """``left NEAR/n right``: at most ``distance`` words between, either order, one field."""

    left: CNode
    right: CNode
    distance: int
    source: str
    offset: int

    def holds(self, view: View) -> bool:
        return bool(self.pairs(view))

    def occurrences(self, view: View) -> list[Occurrence]:
        return [o for pair in self.pairs(view) for o in pair]

    def pairs(self, view: View) -> list[tuple[Occurrence, Occurrence]]:
        """Every (left, right) pair of occurrences close enough."""
        left = self.left.occurrences(view)
        if not left:
            return []
        right = sorted(self.right.occurrences(view), key=lambda o: (o.field, o.first))
        if not right:
            return []
        keys = [(o.field, o.first) for o in right]
        widest = max(o.last - o.first for o in right)
        found = []
        for one in left:
            low = bisect.bisect_left(keys, (one.field, one.first - self.distance - 1 - widest))
            high = bisect.bisect_right(keys, (one.field, one.last + self.distance + 1))
            for other in right[low:high]:
                gap = max(other.first - one.last, one.first - other.last) - 1
                if other.field == one.field and gap <= self.distance:
                    found.append((one, other))
        return found


CNode = TermNode | AnyOf | AllOf | NotNode | NearNode
"""A compiled part of a query: ``holds(view)``, ``occurrences(view)``, and the ``source``
text (and its ``offset``) it was compiled from."""


def collect_hits(node: CNode, view: View) -> list[Occurrence]:
    """The occurrences that make a holding ``node`` hold (none under NOT)."""
    if isinstance(node, TermNode | NearNode):
        return node.occurrences(view)
    if isinstance(node, AnyOf):
        return [o for c in node.children if c.holds(view) for o in collect_hits(c, view)]
    if isinstance(node, AllOf):
        return [o for c in node.children for o in collect_hits(c, view)]
    return []


def positive_terms(node: CNode) -> list[TermNode]:
    """The terms of ``node`` that are not under a NOT."""
    if isinstance(node, TermNode):
        return [node]
    if isinstance(node, AnyOf | AllOf):
        return [t for c in node.children for t in positive_terms(c)]
    if isinstance(node, NearNode):
        return positive_terms(node.left) + positive_terms(node.right)
    return []
