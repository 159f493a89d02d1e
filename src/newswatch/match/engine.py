"""The compiled watchlist: which watches match an article, and why.

A watch matches when any of its keywords matches, its query (if any) holds, and none of
its exclude terms occurs (SPEC §3). Compiling turns every watch into a small tree of
:mod:`~newswatch.match.nodes` over *atoms*: one atom per distinct (word, prefix or not,
languages). The whole watchlist shares one index from words to atoms, so an article is
read once, whatever the number of watches:

1. each field is split at whitespace and every distinct chunk is looked up in the
   :class:`~newswatch.match.index.WordIndex` (cached: a chunk is folded and split into
   words, and its words matched against exact words, prefixes and inflected forms, only
   the first time it is seen);
2. only the watches triggered by an atom that occurs (plus the few that could match
   without any: pure ``NOT`` queries, /regex/ terms) are evaluated, on a
   :class:`~newswatch.match.view.View` that works out word positions, offsets and folded
   text only when a node asks.

Modules: :mod:`~newswatch.match.syntax`, :mod:`~newswatch.match.terms` and
:mod:`~newswatch.match.query` parse; :mod:`~newswatch.match.normalize` folds text;
:mod:`~newswatch.match.languages` (and :mod:`~newswatch.match.belarusian`) inflect;
:mod:`~newswatch.match.index`, :mod:`~newswatch.match.view` and
:mod:`~newswatch.match.nodes` evaluate; :mod:`~newswatch.match.explain` explains.
Hits keep offsets into the original field text, for snippets and highlighting.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from newswatch.errors import ValueProblem
from newswatch.match import languages as lang
from newswatch.match.index import WordIndex
from newswatch.match.nodes import (
    AllOf,
    AnyOf,
    CNode,
    NearNode,
    NotNode,
    TermNode,
    collect_hits,
    cost,
)
from newswatch.match.query import (
    FIELDS,
    And,
    Field,
    Group,
    Node,
    Not,
    Or,
    QueryError,
    Regex,
    Words,
    parse_query,
    parse_term,
    parse_variant,
)
from newswatch.match.view import Occurrence, View
from newswatch.models import Article, Hit, Match

if TYPE_CHECKING:  # the configuration layer (pydantic, YAML) stays out of the workers
    from newswatch.config import Settings

__all__ = [
    "CompiledWatch",
    "WatchSpec",
    "Watchlist",
    "WatchlistError",
    "check_watchlist",
    "compile_watchlist",
    "snippet",
]

Loc = tuple[str | int, ...]

log = logging.getLogger(__name__)

SNIPPET_CHARS = 240
MAX_HITS_PER_TERM = 1  # per field, in alerts: the first occurrence (explain shows all)
_TOKEN_CACHE_LIMIT = 300_000
_INFLECT_MIN = 3  # shorter words are matched as written only
_LENGTH_SLACK = (-3, 6)  # inflected forms are this much shorter/longer than the word


# ------------------------------------------------------------------ compiling


class WatchLike(Protocol):
    """What compiling reads of a watch (a configuration's ``WatchSettings``, or the
    :class:`WatchSpec` a worker is sent)."""

    @property
    def name(self) -> str: ...
    @property
    def keywords(self) -> Sequence[str]: ...
    @property
    def query(self) -> str | None: ...
    @property
    def exclude(self) -> Sequence[str]: ...
    @property
    def languages(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class WatchSpec:
    """A watch as plain data: what a worker process is sent to compile, so that it needs
    neither pydantic nor the configuration layer (~20 MB less in each worker)."""

    name: str
    keywords: tuple[str, ...]
    query: str | None
    exclude: tuple[str, ...]
    languages: tuple[str, ...]

    @classmethod
    def of(cls, watch: WatchLike) -> WatchSpec:
        """The parts of ``watch`` that compiling reads."""
        return cls(
            watch.name,
            tuple(watch.keywords),
            watch.query,
            tuple(watch.exclude),
            tuple(watch.languages),
        )


@dataclass(frozen=True, slots=True)
class CompiledWatch:
    """A watch ready to run."""

    name: str
    keywords: tuple[CNode, ...]
    query: CNode | None
    exclude: tuple[CNode, ...]
    triggers: frozenset[int]  # the watch can only match if one of these atoms occurs
    always: bool  # ...unless this is set (it may match without any)


class _Compiler:
    """Compiles watches, collecting every problem (with the ``loc`` of its value)."""

    def __init__(self, groups: Mapping[str, Sequence[str]], index: WordIndex) -> None:
        self.index = index
        self.problems: list[ValueProblem] = []
        self.reported: list[ValueProblem] = []  # the config loader reports these itself
        self.variants: dict[str, list[Words | Regex]] = {}
        for name, items in groups.items():
            self.variants[name] = []
            for j, item in enumerate(items):
                try:
                    self.variants[name].append(parse_variant(item))
                except QueryError as exc:
                    self.problems.append(ValueProblem(("terms", name, j), exc.message, exc.offset))

    def node(
        self, node: Node, source: str, fields: tuple[str, ...], langs: tuple[str, ...]
    ) -> CNode:
        """The compiled form of a parsed ``node`` of ``source``, restricted to ``fields``."""
        shown = source[node.start : node.end]
        if isinstance(node, Words | Regex):
            return self.term(node, fields, langs, group=None)
        if isinstance(node, Group):
            if node.name not in self.variants:
                raise QueryError(_unknown_group(node.name, list(self.variants)), node.start)
            variants = tuple(
                self.term(v, fields, langs, group=node.name) for v in self.variants[node.name]
            )
            return AnyOf(variants, shown, node.start, node.name)
        if isinstance(node, Field):
            return self.node(node.child, source, (node.field,), langs)
        if isinstance(node, Not):
            return NotNode(self.node(node.child, source, fields, langs), shown, node.start)
        if isinstance(node, And | Or):
            parts = tuple(self.node(c, source, fields, langs) for c in node.children)
            if isinstance(node, Or):
                return AnyOf(parts, shown, node.start)
            return AllOf(parts, shown, node.start, tuple(sorted(parts, key=cost)))
        left = self.node(node.left, source, fields, langs)
        right = self.node(node.right, source, fields, langs)
        return NearNode(left, right, node.distance, shown, node.start)

    def term(
        self,
        node: Words | Regex,
        fields: tuple[str, ...],
        langs: tuple[str, ...],
        group: str | None,
    ) -> TermNode:
        if isinstance(node, Regex):
            return TermNode(node.text, group, fields, (), node.pattern, node.text, node.start)
        atoms = tuple(
            self.index.atom(word, prefix, langs)
            for word, prefix in zip(node.words, node.prefix, strict=True)
        )
        return TermNode(node.text, group, fields, atoms, None, node.text, node.start)

    def part(
        self, loc: Loc, text: str, parse: Callable[[str], Node], langs: tuple[str, ...]
    ) -> CNode | None:
        """One keyword, exclude item or query compiled, or None (its problem noted)."""
        try:
            return self.node(parse(text), text, FIELDS, langs)
        except QueryError as exc:
            problem = ValueProblem(loc, exc.message, exc.offset)
            known = loc[2] != "query" and exc.message.startswith("unknown term group")
            (self.reported if known else self.problems).append(problem)
            return None

    def languages(self, where: Loc, codes: Sequence[str]) -> tuple[str, ...]:
        for j, code in enumerate(codes):
            if code not in lang.LANGUAGES:
                self.problems.append(
                    ValueProblem((*where, "languages", j), _unknown_language(code))
                )
        return tuple(dict.fromkeys(c for c in codes if c in lang.LANGUAGES))

    def watch(self, where: Loc, watch: WatchLike) -> CompiledWatch | None:
        langs = self.languages(where, watch.languages)
        before = len(self.problems) + len(self.reported)
        keywords = [
            self.part((*where, "keywords", j), k, parse_term, langs)
            for j, k in enumerate(watch.keywords)
        ]
        exclude = [
            self.part((*where, "exclude", j), k, parse_term, langs)
            for j, k in enumerate(watch.exclude)
        ]
        query = None
        if watch.query is not None:
            query = self.part((*where, "query"), watch.query, parse_query, langs)
        if len(self.problems) + len(self.reported) > before:
            return None
        return _compiled(watch.name, [k for k in keywords if k], query, [e for e in exclude if e])


def _compiled(
    name: str, keywords: list[CNode], query: CNode | None, exclude: list[CNode]
) -> CompiledWatch:
    """The watch with what triggers it: atoms one of which must occur for it to match."""
    options = []
    if keywords:
        options.append(_needs(AnyOf(tuple(keywords), "", 0)))
    if query is not None:
        options.append(None if query.holds(View.empty()) else _needs(query))
    known = [o for o in options if o is not None]
    triggers = min(known, key=len) if known else frozenset()
    return CompiledWatch(name, tuple(keywords), query, tuple(exclude), triggers, not known)


def _needs(node: CNode) -> frozenset[int] | None:
    """Atoms one of which must occur for ``node`` to hold; None if it may hold without."""
    if isinstance(node, TermNode):
        return None if node.pattern is not None else frozenset(node.atoms[-1:])
    if isinstance(node, NotNode):
        return None
    if isinstance(node, AnyOf):
        found = [_needs(child) for child in node.children]
        if any(f is None for f in found):
            return None
        return frozenset().union(*(f for f in found if f is not None))
    children = (node.left, node.right) if isinstance(node, NearNode) else node.children
    required = [f for f in map(_needs, children) if f is not None]
    return min(required, key=len) if required else None


def _unknown_group(name: str, known: list[str]) -> str:
    guess = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean '@{guess[0]}'?)" if guess else "; define it under 'terms'"
    return f"unknown term group '@{name}'{hint}"


# Country codes and three-letter codes people write for a language code.
_LIKELY_LANGUAGE = {"by": "be", "bel": "be", "ua": "uk", "ukr": "uk", "rus": "ru"}
_LIKELY_LANGUAGE |= {"eng": "en", "gb": "en", "us": "en", "ger": "de", "deu": "de", "pol": "pl"}


def _unknown_language(code: object) -> str:
    known = lang.language_names()
    text = str(code).lower()
    guess = _LIKELY_LANGUAGE.get(text) or next(
        iter(difflib.get_close_matches(text, known, n=1, cutoff=0.5)), None
    )
    hint = f" (did you mean '{guess}'?)" if guess else ""
    return f"unknown language '{code}'{hint}; ISO 639-1 codes: {', '.join(known)}"


# ------------------------------------------------------------------ the watchlist


@dataclass
class Watchlist:
    """Every watch of a configuration, compiled once per load."""

    watches: tuple[CompiledWatch, ...]
    index: WordIndex
    _triggered: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _always: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        triggered: dict[int, list[int]] = {}
        for i, watch in enumerate(self.watches):
            for atom in watch.triggers:
                triggered.setdefault(atom, []).append(i)
        self._triggered = {a: tuple(w) for a, w in triggered.items()}
        self._always = tuple(i for i, w in enumerate(self.watches) if w.always)

    def view(self, article: Article) -> View:
        """The article as matching sees it (folded, split, looked up)."""
        return View.of(article, self.index)

    def candidates(self, view: View) -> list[int]:
        """Indexes of the watches that may match ``view``."""
        found = set(self._always)
        triggered = self._triggered
        for atom in view.atoms_present():
            hit = triggered.get(atom)
            if hit:
                found.update(hit)
        return sorted(found)

    def match(self, article: Article) -> list[Match]:
        """The watches that match ``article``, each with its hits and a snippet."""
        view = self.view(article)
        matches = []
        for i in self.candidates(view):
            watch = self.watches[i]
            if matches_watch(watch, view):
                hits = watch_hits(watch, view, limit=MAX_HITS_PER_TERM)
                matches.append(Match(watch.name, tuple(hits), snippet(view.raw, hits)))
        return matches

    def names(self) -> list[str]:
        """The watch names, in configuration order."""
        return [w.name for w in self.watches]


def matches_watch(watch: CompiledWatch, view: View) -> bool:
    """Whether ``watch`` matches: any keyword, the query, no exclude term."""
    if watch.keywords and not any(k.holds(view) for k in watch.keywords):
        return False
    if watch.query is not None and not watch.query.holds(view):
        return False
    return not any(e.holds(view) for e in watch.exclude)


def watch_hits(watch: CompiledWatch, view: View, limit: int | None = None) -> list[Hit]:
    """The hits that made a matching ``watch`` match, in field and text order."""
    found: list[Occurrence] = []
    for keyword in watch.keywords:
        found += collect_hits(keyword, view)
    if watch.query is not None:
        found += collect_hits(watch.query, view)
    return view.hits(found, limit=limit)


def snippet(fields: Mapping[str, str], hits: Sequence[Hit], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of the first hit's field around it, cut at spaces; with
    no hits (a watch of NOT terms only), the start of the summary, content or title."""
    if not hits:
        text = next((fields[f] for f in ("summary", "content", "title") if fields.get(f)), "")
        return _around(text, 0, 0, width)
    hit = hits[0]
    return _around(fields[hit.field], hit.start, hit.end, width)


def _around(text: str, hit_start: int, hit_end: int, width: int) -> str:
    half = max(0, (width - (hit_end - hit_start)) // 2)
    start = max(0, hit_start - half)
    end = min(len(text), hit_end + half + max(0, half - hit_start))
    if start > 0:
        space = text.find(" ", start, hit_start)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", hit_end, end)
        end = space if space != -1 else end
    body = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


class WatchlistError(ValueError):
    """The watchlist has problems that the configuration loader's checks report."""

    def __init__(self, problems: Sequence[ValueProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(_describe(p) for p in self.problems))


def _describe(problem: ValueProblem) -> str:
    where = ".".join(str(part) for part in problem.loc)
    at = f" (at character {problem.offset + 1})" if problem.offset is not None else ""
    return f"{where}: {problem.message}{at}"


@dataclass(frozen=True, slots=True)
class _Built:
    settings: Settings
    watchlist: Watchlist | None
    problems: list[ValueProblem]
    reported: list[ValueProblem]


_last: _Built | None = None


def _build(settings: Settings) -> _Built:
    """Compile ``settings`` (the last result is remembered: loading a configuration
    compiles it to check it, and the pipeline then gets the same compiled watchlist)."""
    global _last
    last = _last
    if last is not None and last.settings is settings:
        return last
    watchlist, problems, reported = _compile(settings.terms, settings.watches)
    built = _Built(settings, watchlist, problems, reported)
    _last = built
    return built


def _compile(
    terms: Mapping[str, Sequence[str]], watches: Sequence[WatchLike]
) -> tuple[Watchlist | None, list[ValueProblem], list[ValueProblem]]:
    index = WordIndex()
    compiler = _Compiler(terms, index)
    compiled = [compiler.watch(("watches", i), w) for i, w in enumerate(watches)]
    ok = not compiler.problems and not compiler.reported
    watchlist = Watchlist(tuple(w for w in compiled if w), index) if ok else None
    return watchlist, compiler.problems, compiler.reported


def compile_watches(terms: Mapping[str, Sequence[str]], watches: Sequence[WatchLike]) -> Watchlist:
    """Compile ``watches`` with the groups ``terms`` (a configuration's ``terms`` and
    ``watches``): what a worker process does with the watches it is sent."""
    watchlist, problems, reported = _compile(terms, watches)
    if watchlist is None:
        raise WatchlistError(problems + reported)
    return watchlist


def compile_watchlist(settings: Settings) -> Watchlist:
    """Compile every watch of ``settings`` once per configuration load.

    Raises :class:`WatchlistError` for problems that :func:`check_watchlist` reports;
    load the configuration with ``checks=[check_watchlist]`` to have them located.
    """
    built = _build(settings)
    if built.watchlist is None:
        raise WatchlistError(built.problems + built.reported)
    return built.watchlist


def check_watchlist(settings: Settings) -> list[ValueProblem]:
    """The configuration check for ``load_config(..., checks=[check_watchlist])``: every
    query, keyword, exclude item, group variant and language, compiled (and kept)."""
    return list(_build(settings).problems)
