"""Compiled query nodes: each says whether it holds on a :class:`View` of an article,
and where it occurs there (for phrases, NEAR and hits)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import regex

from newswatch.match.index import EMPTY
from newswatch.match.view import Occurrence, View

__all__ = [
    "AllOf",
    "AnyOf",
    "CNode",
    "NearNode",
    "NotNode",
    "TermNode",
    "collect_hits",
    "cost",
    "positive_terms",
]

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
            return self.atoms[0] in view.present_in(self.fields)
        if not any(all(a in view.present.get(f, EMPTY) for a in self.atoms) for f in self.fields):
            return False
        return bool(self.occurrences(view))

    def occurrences(self, view: View) -> list[Occurrence]:
        found: list[Occurrence] = []
        if self.pattern is None and len(self.atoms) == 1:  # a word: most terms
            atom = self.atoms[0]
            for name in self.fields:
                if atom in view.present.get(name, EMPTY):
                    positions = view.layout(name).positions.get(atom, ())
                    found += [Occurrence(self, name, i, i) for i in positions]
            return found
        for name in self.fields:
            if name not in view.raw:
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
        layout = view.layout(name)
        size = layout.count
        found = []
        for i in layout.positions.get(first, ()):
            if i + len(rest) >= size:
                continue
            if all(atom in view.atoms_at(name, i + k + 1) for k, atom in enumerate(rest)):
                found.append(Occurrence(self, name, i, i + len(rest)))
        return found


@dataclass(frozen=True, eq=False, slots=True)
class AnyOf:
    """OR, and @group (any of its variants: then ``group`` is its name)."""

    children: tuple[CNode, ...]
    source: str
    offset: int
    group: str | None = None

    def holds(self, view: View) -> bool:
        return any(child.holds(view) for child in self.children)

    def occurrences(self, view: View) -> list[Occurrence]:
        return [o for child in self.children for o in child.occurrences(view)]


@dataclass(frozen=True, eq=False, slots=True)
class AllOf:
    """AND (and juxtaposition); ``cheap_first`` is the children in the order they are
    tried: single words before phrases and NEAR, /regex/ last."""

    children: tuple[CNode, ...]
    source: str
    offset: int
    cheap_first: tuple[CNode, ...] = ()

    def holds(self, view: View) -> bool:
        return all(child.holds(view) for child in self.cheap_first or self.children)

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


def cost(node: CNode) -> int:
    """A rough rank of how much evaluating ``node`` costs."""
    if isinstance(node, TermNode):
        return 100 if node.pattern is not None else 1 if len(node.atoms) == 1 else 3
    if isinstance(node, NotNode):
        return cost(node.child)
    if isinstance(node, NearNode):
        return 5 + cost(node.left) + cost(node.right)
    return sum(cost(child) for child in node.children)


def positive_terms(node: CNode) -> list[TermNode]:
    """The terms of ``node`` that are not under a NOT."""
    if isinstance(node, TermNode):
        return [node]
    if isinstance(node, AnyOf | AllOf):
        return [t for c in node.children for t in positive_terms(c)]
    if isinstance(node, NearNode):
        return positive_terms(node.left) + positive_terms(node.right)
    return []
