"""One article as matching sees it, worked out only as far as the watches ask.

Building a :class:`View` splits each field into chunks (at whitespace) and learns from
the word index which atoms occur: that is all an article that triggers no watch costs.
Word positions (for phrases and NEAR), where words are in the original text (for hits),
and the folded text with /regex/ matches are computed on first use and kept for the
other watches.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress
from operator import itemgetter
from typing import TYPE_CHECKING, Final, NamedTuple, cast

import regex

from newswatch.match.index import EMPTY, Chunk, WordIndex
from newswatch.match.normalize import NormalizedText, fold_mapped, normalize, split_words
from newswatch.match.query import FIELDS
from newswatch.models import Article, Hit

if TYPE_CHECKING:
    from newswatch.match.nodes import TermNode

__all__ = ["Occurrence", "View"]

log = logging.getLogger(__name__)

REGEX_TIMEOUT: Final = 0.05  # seconds a /regex/ may spend on one field of one article
MAX_REGEX_HITS: Final = 100
_IN_FIELD: Final = itemgetter(2, 3, 4)  # an Occurrence's first, last and start
_FIELD: Final = itemgetter(1)
# The field names sort backwards (title, summary, content): a stable sort on the name, in
# reverse, is a sort in field order.
assert tuple(sorted(FIELDS, reverse=True)) == FIELDS


_timeouts: dict[str, int] = {}


def _report_timeout(pattern: str, name: str) -> None:
    """Log a /regex/ that ran too long: the 1st, 10th, 100th... time, not every article."""
    count = _timeouts[pattern] = _timeouts.get(pattern, 0) + 1
    if str(count) == "1" + "0" * (len(str(count)) - 1):
        log.warning(
            "regex took too long on a field and counted as no match pattern=/%s/ field=%s times=%d",
            pattern,
            name,
            count,
        )


class Occurrence(NamedTuple):
    """Where a term occurs: words ``first..last`` of ``field``; for a /regex/ also its
    span in the original text (for words that is derived from the words)."""

    term: TermNode
    field: str
    first: int
    last: int
    start: int = -1
    end: int = -1


@dataclass(slots=True)
class _Layout:
    """Word positions of one field: only the words that stand for atoms are recorded."""

    count: int  # words in the field
    positions: dict[int, list[int]]  # atom -> positions of the words standing for it
    at: dict[int, tuple[int, int, frozenset[int]]]  # position -> (chunk, word in chunk, atoms)
    nth: dict[int, int]  # chunk holding atoms -> how many earlier chunks have its text
    _starts: list[int] | None = None  # position of each chunk's first word (and the count)


@dataclass(eq=False)
class View:
    """One article: per field its text, its chunks, and the atoms present."""

    raw: dict[str, str]
    chunks: dict[str, list[str]]
    present: dict[str, frozenset[int]]
    index: WordIndex = field(default_factory=WordIndex)
    holding: dict[str, set[str]] = field(default_factory=dict)  # chunks that hold atoms
    # Chunks that hold atoms or other than one word: all a layout needs to find.
    marked: dict[str, set[str]] = field(default_factory=dict)
    _present_in: dict[tuple[str, ...], frozenset[int]] = field(default_factory=dict)
    _layouts: dict[str, _Layout] = field(default_factory=dict)
    _offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    _folded: dict[str, NormalizedText] = field(default_factory=dict)
    _regex: dict[tuple[int, str], list[tuple[int, int]]] = field(default_factory=dict)
    timeouts: list[str] = field(default_factory=list)  # /regex/ patterns that ran too long

    @classmethod
    def empty(cls) -> View:
        """An article with no text at all."""
        return cls({}, {}, {})

    @classmethod
    def of(cls, article: Article, index: WordIndex) -> View:
        """Split ``article``'s fields and look their chunks up in ``index``."""
        raw = {name: text for name in FIELDS if (text := getattr(article, name))}
        return cls.of_fields(raw, index)

    @classmethod
    def of_fields(cls, raw: Mapping[str, str], index: WordIndex) -> View:
        """Like :meth:`of` for field texts."""
        chunks = {name: text.split() for name, text in raw.items()}
        while True:
            generation = index.generation
            marked = {name: set(found).difference(index.plain) for name, found in chunks.items()}
            if any(m.difference(index.counts) for m in marked.values()):  # not all cached
                index.lookup(set().union(*marked.values()))
                marked = {name: m.difference(index.plain) for name, m in marked.items()}
            present: dict[str, frozenset[int]] = {}
            holding: dict[str, set[str]] = {}
            for name, found in marked.items():
                holding[name] = found & index.positive
                infos = map(index.chunk, holding[name])
                present[name] = frozenset().union(*(c.union for c in infos if isinstance(c, Chunk)))
            if index.generation == generation:  # else the cache started over meanwhile
                return cls(dict(raw), chunks, present, index, holding, marked)

    def atoms_present(self) -> frozenset[int]:
        """Every atom that occurs in some field."""
        return frozenset().union(*self.present.values())

    def present_in(self, fields: tuple[str, ...]) -> frozenset[int]:
        """Every atom that occurs in one of ``fields``."""
        found = self._present_in.get(fields)
        if found is None:
            found = frozenset().union(*(self.present.get(f, EMPTY) for f in fields))
            self._present_in[fields] = found
        return found

    # -- word positions ------------------------------------------------------------

    def layout(self, name: str) -> _Layout:
        """Field ``name``'s word positions (worked out once, then kept)."""
        found = self._layouts.get(name)
        if found is None:
            found = self._layouts[name] = self._lay_out(name)
        return found

    def _lay_out(self, name: str) -> _Layout:
        chunks = self.chunks.get(name, [])
        index = self.index
        # Every chunk not marked holds one word and no atom: only the marked ones are read.
        marked = self.marked.get(name, set())
        marks: Iterable[int] = ()
        if marked:
            marks = compress(range(len(chunks)), map(marked.__contains__, chunks))
        infos = {text: index.chunk(text) for text in marked}
        sizes = {text: info for text, info in infos.items() if isinstance(info, int)}
        positions: dict[int, list[int]] = {}
        at: dict[int, tuple[int, int, frozenset[int]]] = {}
        nth: dict[int, int] = {}
        seen: dict[str, int] = {}
        shift = 0  # words in the chunks before, less their number
        for i in marks:
            text = chunks[i]
            size = sizes.get(text)
            if size is not None:  # no atoms: a dash (no word), or words run together
                shift += size - 1
                continue
            info = cast("Chunk", infos[text])
            nth[i] = seen[text] = seen.get(text, -1) + 1
            start = i + shift
            for k, atoms in enumerate(info.atoms):
                if atoms:
                    at[start + k] = (i, k, atoms)
                    for atom in atoms:
                        positions.setdefault(atom, []).append(start + k)
            shift += len(info.words) - 1
        return _Layout(len(chunks) + shift, positions, at, nth)

    def _starts(self, name: str) -> list[int]:
        """The position of the first word of each chunk of field ``name`` (and the count,
        last): only /regex/ hits ask."""
        layout = self.layout(name)
        if layout._starts is None:
            sizes = map(self.index.count, self.chunks.get(name, []))
            layout._starts = list(accumulate(sizes, initial=0))
        return layout._starts

    def atoms_at(self, name: str, position: int) -> frozenset[int]:
        """The atoms of the word at ``position`` of field ``name``."""
        found = self.layout(name).at.get(position)
        return found[2] if found is not None else EMPTY

    # -- where things are in the original text ---------------------------------------

    def _chunk_start(self, name: str, chunk: int) -> int:
        """Where chunk ``chunk`` of field ``name`` starts in the original text."""
        key = (name, chunk)
        found = self._offsets.get(key)
        if found is None:
            text, chunks = self.raw[name], self.chunks[name]
            piece = chunks[chunk]
            nth = self.layout(name).nth.get(chunk)
            if nth is None:
                nth = chunks[:chunk].count(piece)  # earlier chunks with the same text
            found = -1
            while nth >= 0:
                found = text.find(piece, found + 1)
                end = found + len(piece)
                before = text[found - 1] if found > 0 else " "
                after = text[end] if end < len(text) else " "
                if before.isspace() and after.isspace():
                    nth -= 1
            self._offsets[key] = found
        return found

    def _chunk_words(self, name: str, chunk: int) -> tuple[tuple[int, int], ...]:
        """Where the words of chunk ``chunk`` are in it (original characters)."""
        info = self.index.chunk(self.chunks[name][chunk])
        if isinstance(info, Chunk):
            return info.spans
        folded = normalize(self.chunks[name][chunk])
        return tuple(folded.span(s, e) for s, e in split_words(folded.text)[1])

    def word_span(self, name: str, position: int) -> tuple[int, int]:
        """Where the word at ``position`` of field ``name`` is in the original text."""
        layout = self.layout(name)
        found = layout.at.get(position)
        if found is not None:
            chunk, k = found[0], found[1]
        else:  # a word that stands for no atom: only /regex/ hits ask
            starts = self._starts(name)
            chunk = max(bisect.bisect_right(starts, position) - 1, 0)
            while chunk > 0 and starts[chunk] == starts[chunk + 1]:
                chunk -= 1  # chunks without words (a dash) hold no position
            k = position - starts[chunk]
        spans = self._chunk_words(name, chunk)
        if not spans:
            start = self._chunk_start(name, chunk)
            return start, start
        start, end = spans[min(k, len(spans) - 1)]
        base = self._chunk_start(name, chunk)
        return base + start, base + end

    def word_at(self, name: str, char: int) -> int:
        """The position of the word holding original offset ``char`` (or of the last word
        before it)."""
        starts = self._starts(name)
        chunks = self.chunks.get(name, [])
        found = 0
        for i in range(len(chunks)):  # only /regex/ hits ask: fine to walk
            base = self._chunk_start(name, i)
            if base > char:
                break
            spans = self._chunk_words(name, i)
            inside = [k for k, (start, _) in enumerate(spans) if base + start <= char]
            if inside:
                found = starts[i] + inside[-1]
        return found

    def original_span(self, occurrence: Occurrence) -> tuple[int, int]:
        """The occurrence's span in the original text of its field."""
        if occurrence.start >= 0:
            return occurrence.start, occurrence.end
        first = self.word_span(occurrence.field, occurrence.first)
        if occurrence.last == occurrence.first:
            return first
        last = self.word_span(occurrence.field, occurrence.last)
        return first[0], last[1]

    # -- /regex/ -----------------------------------------------------------------------

    def folded(self, name: str) -> NormalizedText:
        """The folded text of field ``name``, with its map to the original."""
        found = self._folded.get(name)
        if found is None:
            text = self.raw.get(name, "")
            folded, segments = fold_mapped(text)
            found = NormalizedText(folded, segments) if segments is not None else normalize(text)
            self._folded[name] = found
        return found

    def regex_spans(self, pattern: regex.Pattern[str], name: str) -> list[tuple[int, int]]:
        """Non-empty matches of ``pattern`` in the folded field ``name``, as spans of the
        original text (none if the pattern runs too long)."""
        if not self.raw.get(name):
            return []
        key = (id(pattern), name)
        found = self._regex.get(key)
        if found is None:
            folded = self.folded(name)
            found = []
            try:
                for m in pattern.finditer(folded.text, timeout=REGEX_TIMEOUT):
                    if m.end() > m.start():
                        found.append(folded.span(*m.span()))
                        if len(found) >= MAX_REGEX_HITS:
                            break
            except TimeoutError:
                self.timeouts.append(pattern.pattern)
                _report_timeout(pattern.pattern, name)
                found = []
            self._regex[key] = found
        return found

    # -- hits --------------------------------------------------------------------------

    def hit(self, occurrence: Occurrence) -> Hit:
        """The occurrence as a :class:`Hit` on the original text."""
        start, end = self.original_span(occurrence)
        term = occurrence.term
        text = self.raw[occurrence.field][start:end]
        return Hit(term.label, occurrence.field, start, end, text, term.group)

    def hits(self, found: Sequence[Occurrence], limit: int | None = None) -> list[Hit]:
        """Hits for ``found``, in field and text order: at most ``limit`` per term and
        field, and one per stretch of text (the first term written wins)."""
        if len(found) > 1:  # a stable sort by field, first, last, start
            found = sorted(found, key=_IN_FIELD)
            found.sort(key=_FIELD, reverse=True)
        counts: dict[tuple[str, str | None, str], int] = {}
        seen: set[tuple[str, int, int, int, int]] = set()
        result: list[Hit] = []
        for occurrence in found:
            term = occurrence.term
            key = (term.label, term.group, occurrence.field)
            count = counts.get(key, 0)
            if limit is not None and count >= limit:
                continue
            place = occurrence[1:]  # field, first, last, start, end
            if place in seen:
                continue
            seen.add(place)
            counts[key] = count + 1
            result.append(self.hit(occurrence))
        return result
