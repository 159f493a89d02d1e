"""Why a watch matches a text or not: for ``newswatch explain``.

For every watch (or one), each part is reported: which keywords occur, whether the query
holds (and if not, the innermost part of it that fails, with its column in the query),
and which exclude terms occur. Hits name the term, the field, the character offsets in
that field and the text found there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newswatch.match.engine import CompiledWatch, Watchlist, matches_watch, snippet
from newswatch.match.nodes import (
    AllOf,
    AnyOf,
    CNode,
    NearNode,
    NotNode,
    TermNode,
    collect_hits,
    positive_terms,
)
from newswatch.match.query import FIELDS
from newswatch.match.view import View
from newswatch.models import Hit

__all__ = ["PartReport", "WatchReport", "explain", "format_reports"]

MAX_SHOWN = 10  # occurrences listed per term and field


@dataclass(frozen=True, slots=True)
class PartReport:
    """One part of a watch: ``keywords``, ``query`` or ``exclude``."""

    part: str
    ok: bool  # this part lets the watch match
    hits: tuple[Hit, ...]  # what occurs (for exclude: what vetoes)
    reason: str = ""  # why it does not let the watch match


@dataclass(frozen=True, slots=True)
class WatchReport:
    """Whether one watch matches, part by part."""

    watch: str
    matched: bool
    parts: tuple[PartReport, ...]
    snippet: str = ""
    slow: tuple[str, ...] = ()  # /regex/ patterns that ran too long on this text


def explain(
    watchlist: Watchlist, fields: dict[str, str], watch: str | None = None
) -> list[WatchReport]:
    """Reports for every watch (or the one named ``watch``) on a text given by field."""
    view = View.of_fields({k: v for k, v in fields.items() if v}, watchlist.index)
    chosen = [w for w in watchlist.watches if watch is None or w.name == watch]
    return [_report(w, view) for w in chosen]


def _report(watch: CompiledWatch, view: View) -> WatchReport:
    parts = []
    if watch.keywords:
        parts.append(_keywords(watch.keywords, view))
    if watch.query is not None:
        parts.append(_query(watch.query, view))
    if watch.exclude:
        parts.append(_exclude(watch.exclude, view))
    matched = matches_watch(watch, view)
    found = [h for p in parts if p.part != "exclude" for h in p.hits] if matched else []
    ordered = sorted(found, key=lambda h: (FIELDS.index(h.field), h.start))
    shown = snippet(view.raw, ordered) if matched else ""
    mine = {t.pattern.pattern for t in _terms_of(watch) if t.pattern is not None}
    slow = tuple(dict.fromkeys(p for p in view.timeouts if p in mine))
    return WatchReport(watch.name, matched, tuple(parts), shown, slow)


def _terms_of(watch: CompiledWatch) -> list[TermNode]:
    """Every term of a watch, negated or not."""
    found: list[TermNode] = []
    stack: list[CNode] = [*watch.keywords, *watch.exclude]
    if watch.query is not None:
        stack.append(watch.query)
    while stack:
        node = stack.pop()
        if isinstance(node, TermNode):
            found.append(node)
        elif isinstance(node, NotNode):
            stack.append(node.child)
        elif isinstance(node, NearNode):
            stack += [node.left, node.right]
        else:
            stack += node.children
    return found


def _keywords(keywords: Sequence[CNode], view: View) -> PartReport:
    holding = [k for k in keywords if k.holds(view)]
    hits = view.hits([o for k in holding for o in collect_hits(k, view)], limit=MAX_SHOWN)
    if holding:
        return PartReport("keywords", True, tuple(hits))
    listed = ", ".join(k.source for k in keywords)
    return PartReport("keywords", False, (), f"none of them occurs ({listed})")


def _query(query: CNode, view: View) -> PartReport:
    occurring = [o for t in positive_terms(query) for o in t.occurrences(view)]
    hits = tuple(view.hits(occurring, limit=MAX_SHOWN))
    if query.holds(view):
        return PartReport("query", True, tuple(view.hits(collect_hits(query, view), MAX_SHOWN)))
    return PartReport("query", False, hits, _why_not(query, view))


def _exclude(exclude: Sequence[CNode], view: View) -> PartReport:
    vetoes = [o for e in exclude if e.holds(view) for o in collect_hits(e, view)]
    hits = tuple(view.hits(vetoes, limit=MAX_SHOWN))
    if not hits:
        return PartReport("exclude", True, ())
    return PartReport("exclude", False, hits, f"{_terms(hits)} occurs, which excludes the article")


def _why_not(node: CNode, view: View) -> str:
    """Why a query part that does not hold fails: its innermost failing parts."""
    where = f"'{node.source}' (column {node.offset + 1})"
    if isinstance(node, AllOf):
        failing = next(c for c in node.children if not c.holds(view))
        return _why_not(failing, view)
    if isinstance(node, NotNode):
        hits = view.hits(collect_hits(node.child, view), limit=1)
        return f"{where} fails: {_terms(hits)} occurs ({_place(hits[0])})"
    if isinstance(node, NearNode):
        for side in (node.left, node.right):
            if not side.holds(view):
                return _why_not(side, view)
        return f"{where} fails: both occur, but {_apart(node.distance)}"
    if isinstance(node, AnyOf) and node.group is not None:
        return f"{where}: no variant occurs{_in(node.children[0])}"
    if isinstance(node, AnyOf):
        reasons = "; ".join(_why_not(child, view) for child in node.children)
        return f"{where}: no alternative holds: {reasons}"
    return f"{where} does not occur{_in(node)}"


def _in(node: CNode) -> str:
    """`` in the title`` for a term restricted to one field."""
    if isinstance(node, TermNode) and len(node.fields) == 1:
        return f" in the {node.fields[0]}"
    return ""


def _apart(distance: int) -> str:
    if distance == 0:
        return "never next to each other"
    words = "word" if distance == 1 else "words"
    return f"never with {distance} {words} or fewer between them"


def _terms(hits: Sequence[Hit]) -> str:
    return ", ".join(dict.fromkeys(_label(h) for h in hits))


def _label(hit: Hit) -> str:
    return f"{hit.term} (@{hit.group})" if hit.group else hit.term


def _place(hit: Hit) -> str:
    return f'{hit.field} {hit.start}-{hit.end} "{hit.text}"'


def format_reports(reports: Sequence[WatchReport]) -> str:
    """Readable lines for ``newswatch explain``."""
    lines: list[str] = []
    for report in reports:
        lines.append(f"{report.watch}: {'MATCHES' if report.matched else 'no match'}")
        for part in report.parts:
            status = "ok" if part.ok else "FAILS"
            if part.part == "exclude" and part.ok:
                lines.append("  exclude: ok, none of them occurs")
                continue
            lines.append(f"  {part.part}: {status}" + (f": {part.reason}" if part.reason else ""))
            lines += [f"    {_label(h)}: {_place(h)}" for h in part.hits]
        lines += [
            f"  note: /{p}/ ran too long on this text and counted as no match" for p in report.slow
        ]
        if report.snippet:
            lines.append(f"  snippet: {report.snippet}")
    return "\n".join(lines)
