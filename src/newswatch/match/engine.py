"""The compiled watchlist: which watches match an article, and why.

A watch matches when any keyword matches, no exclude term appears, and (later) its query
holds. Keywords are whole words or phrases compared after normalization; a trailing ``*``
makes a prefix; ``@name`` expands to every variant of ``terms: name``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from newswatch.config import Settings, WatchSettings
from newswatch.match.normalize import NormalizedText, fold, normalize
from newswatch.models import Article, Hit, Match

FIELDS = ("title", "summary", "content")
SNIPPET_CHARS = 240


@dataclass(frozen=True, slots=True)
class Term:
    """One compiled keyword: the text the user wrote and its pattern."""

    text: str
    pattern: re.Pattern[str]
    group: str | None = None


def compile_term(text: str, group: str | None = None) -> Term:
    """Whole-word pattern for a word or phrase; ``*`` at the end makes it a prefix."""
    raw = text.strip()
    prefix = raw.endswith("*")
    words = re.findall(r"\w+", fold(raw.rstrip("*")))
    if not words:
        raise ValueError(f"term {text!r} has no letters or digits to match")
    body = r"[\W_]+".join(re.escape(w) for w in words)
    tail = r"\w*" if prefix else r"(?!\w)"
    return Term(raw, re.compile(rf"(?<!\w){body}{tail}"), group)


def expand(items: Iterable[str], groups: Mapping[str, Sequence[str]]) -> list[Term]:
    """Compile keywords, expanding ``@group`` references into their variants."""
    terms: list[Term] = []
    for item in items:
        if item.startswith("@"):
            name = item[1:]
            terms.extend(compile_term(v, group=name) for v in groups[name])
        else:
            terms.append(compile_term(item))
    return terms


@dataclass(frozen=True, slots=True)
class CompiledWatch:
    """A watch ready to run."""

    name: str
    keywords: tuple[Term, ...]
    exclude: tuple[Term, ...]


class Watchlist:
    """Every watch of a configuration, compiled once per load."""

    def __init__(self, watches: Iterable[CompiledWatch]) -> None:
        self.watches = tuple(watches)

    def match(self, article: Article) -> list[Match]:
        """The watches that match ``article``, each with its hits and a snippet."""
        fields = {name: getattr(article, name) for name in FIELDS}
        normalized = {name: normalize(text) for name, text in fields.items() if text}
        matches = []
        for watch in self.watches:
            hits = _hits(watch.keywords, fields, normalized)
            if hits and not _hits(watch.exclude, fields, normalized, first_only=True):
                matches.append(Match(watch.name, tuple(hits), snippet(fields, hits[0])))
        return matches


def _hits(
    terms: Iterable[Term],
    fields: Mapping[str, str],
    normalized: Mapping[str, NormalizedText],
    *,
    first_only: bool = False,
) -> list[Hit]:
    hits: list[Hit] = []
    for term in terms:
        for name, norm in normalized.items():
            found = term.pattern.search(norm.text)
            if found is None:
                continue
            start, end = norm.span(found.start(), found.end())
            hits.append(Hit(term.text, name, start, end, fields[name][start:end], term.group))
            if first_only:
                return hits
    hits.sort(key=lambda h: (FIELDS.index(h.field), h.start))
    return hits


def snippet(fields: Mapping[str, str], hit: Hit, width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of the hit's field around the hit, cut at word boundaries."""
    text = fields[hit.field]
    half = max(0, (width - (hit.end - hit.start)) // 2)
    start, end = max(0, hit.start - half), min(len(text), hit.end + half)
    if start > 0:
        space = text.find(" ", start, hit.start)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", hit.end, end)
        end = space if space != -1 else end
    body = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def compile_watch(watch: WatchSettings, groups: Mapping[str, Sequence[str]]) -> CompiledWatch:
    """Compile one watch's keywords and exclusions."""
    return CompiledWatch(
        watch.name, tuple(expand(watch.keywords, groups)), tuple(expand(watch.exclude, groups))
    )


def compile_watchlist(settings: Settings) -> Watchlist:
    """Compile every watch of ``settings``."""
    return Watchlist(compile_watch(w, settings.terms) for w in settings.watches)
