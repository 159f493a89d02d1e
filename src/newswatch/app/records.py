"""How the commands print their records: readable lines, or one JSON object per line
(``--json``; times in RFC 3339 UTC with ``Z``; keys documented in the README).

Everything printed here is feed text made safe for a terminal (``clean_line``) or JSON
data; feed URLs are shown as logs show them (no user info, no query).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from newswatch.app.clock import utcnow
from newswatch.app.status import claim_json, claim_note
from newswatch.match import WatchReport
from newswatch.models import Delivery, DeliveryState, Hit, Match
from newswatch.notify.clean import clean_line, matched_terms
from newswatch.redact import redact_feed_url
from newswatch.store import StoryCopy

if TYPE_CHECKING:  # only their records are read here; the commands import them
    from newswatch.pipeline.replay import WouldAlert
    from newswatch.pipeline.trial import TriedEntry, TriedSource

TEXT_MAX = 300  # characters of an entry's text shown by `try`


def when(value: datetime | None) -> str:
    """``2026-11-24 10:00:00Z``, or ``-``."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def rfc3339(value: datetime | None) -> str | None:
    """``2026-11-24T10:00:00Z``, or None."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _hits_json(hits: tuple[Hit, ...]) -> list[dict[str, Any]]:
    return [
        {"term": h.term, "field": h.field, "start": h.start, "end": h.end, "text": h.text}
        for h in hits
    ]


def _match_json(match: Match) -> dict[str, Any]:
    return {"watch": match.watch, "matched": _hits_json(match.hits), "snippet": match.snippet}


# -- alerts ------------------------------------------------------------------------------


def delivery_lines(d: Delivery) -> Iterator[str]:
    """One delivery of ``alerts``: id, time, state, destination, attempts; title, link,
    other outlets and the last error below."""
    yield (
        f"{d.alert.id}  {when(d.alert.created_at)}  {d.state.value:<7}  "
        f"{d.destination}  attempts={d.attempts}  watch={d.alert.watch}{_delivery_note(d)}"
    )
    yield f"    {clean_line(d.alert.article.title)[:100]}"
    if d.alert.article.link:
        yield f"    {clean_line(d.alert.article.link)}"
    for also in d.alert.also:
        yield f"    also: {clean_line(also.feed.name)}: {clean_line(also.title)[:80]}"
    if d.last_error:
        yield f"    last error: {clean_line(d.last_error)}"


def _delivery_note(d: Delivery) -> str:
    """When a pending delivery is tried next, whether it goes in a digest, and which
    process sends it right now."""
    note = ""
    if d.state is DeliveryState.PENDING and d.next_attempt_at is not None:
        note += f"  next={when(d.next_attempt_at)}"
    if d.unit is not None and d.unit != d.alert.id:
        note += f"  digest={d.unit}"
    if d.claim is not None and d.state is DeliveryState.PENDING:
        note += f"  ({claim_note(d.claim, 'sending', utcnow())})"
    return note


def delivery_json(d: Delivery) -> dict[str, Any]:
    """One delivery as ``alerts --json`` prints it."""
    article = d.alert.article
    return {
        "id": d.alert.id,
        "watch": d.alert.watch,
        "kind": d.alert.kind,
        "created": rfc3339(d.alert.created_at),
        "destination": d.destination,
        "state": d.state.value,
        "attempts": d.attempts,
        "next_attempt": rfc3339(d.next_attempt_at) if d.state is DeliveryState.PENDING else None,
        "digest": d.unit if d.unit is not None and d.unit != d.alert.id else None,
        "last_error": d.last_error,
        "claim": claim_json(d.claim) if d.state is DeliveryState.PENDING else None,
        "title": article.title,
        "url": article.link,
        "published": rfc3339(article.published),
        "feed": {"name": d.alert.feed.name, "url": d.alert.feed.url},
        "also": [
            {"title": s.title, "url": s.url, "feed": {"name": s.feed.name, "url": s.feed.url}}
            for s in d.alert.also
        ],
    }


# -- replay ------------------------------------------------------------------------------


def would_alert_lines(alert: WouldAlert) -> Iterator[str]:
    """What ``replay`` prints for one alert it would send."""
    article = alert.stored.article
    yield f"[{alert.watch}] {clean_line(article.title)[:200]}"
    seen = when(article.published or alert.stored.seen_at)
    yield f"    {seen}  {clean_line(alert.stored.feed.name)}"
    if article.link:
        yield f"    {clean_line(article.link)}"
    if alert.match.hits:
        yield f"    matched: {matched_terms(alert.match.hits)}"
    if alert.match.snippet:
        yield f"    {clean_line(alert.match.snippet)}"
    if alert.copies:
        yield f"    and {alert.copies} more copies of the story"


def would_alert_json(alert: WouldAlert) -> dict[str, Any]:
    """One would-be alert as ``replay --json`` prints it."""
    article = alert.stored.article
    feed = alert.stored.feed
    return {
        **_match_json(alert.match),
        "title": article.title,
        "url": article.link,
        "published": rfc3339(article.published),
        "seen": rfc3339(alert.stored.seen_at),
        "feed": {"name": feed.name, "url": redact_feed_url(feed.url)},
        "story": alert.stored.story_id,
        "copies": alert.copies,
    }


# -- explain -----------------------------------------------------------------------------


def report_json(report: WatchReport) -> dict[str, Any]:
    """One watch's verdict as ``explain --json`` prints it."""
    return {
        "watch": report.watch,
        "matches": report.matched,
        "parts": [
            {"part": p.part, "ok": p.ok, "reason": p.reason or None, "hits": _hits_json(p.hits)}
            for p in report.parts
        ],
        "snippet": report.snippet or None,
        "slow_patterns": list(report.slow),
    }


# -- try ---------------------------------------------------------------------------------


def tried_lines(source: TriedSource) -> Iterator[str]:
    """A source's entries as ``try`` prints them, each with the watches that would alert."""
    shown = redact_feed_url(source.source) if "://" in source.source else source.source
    if source.error is not None:
        yield f"{shown}: {clean_line(source.error)}"
        return
    count = len(source.entries)
    entries = f"{count} entr{'y' if count == 1 else 'ies'}"
    yield f"{shown}: {clean_line(source.title) or '(untitled)'} — {entries}"
    for entry in source.entries:
        yield from _entry_lines(entry)


def _entry_lines(entry: TriedEntry) -> Iterator[str]:
    a = entry.article
    yield ""
    yield f"  id:        {clean_line(a.entry_key)}"
    yield f"  link:      {clean_line(a.link) or '-'}"
    yield f"  title:     {clean_line(a.title) or '(untitled)'}"
    yield f"  published: {rfc3339(a.published) or '-'}"
    yield f"  author:    {clean_line(a.author) or '-'}"
    text = clean_line(" ".join(t for t in (a.summary, a.content) if t))
    yield f"  text:      {text[:TEXT_MAX]}{'…' if len(text) > TEXT_MAX else ''}"
    for match in entry.matches:
        yield f"  ALERT {match.watch}: {matched_terms(match.hits)}"
    if not entry.matches:
        yield "  no watch would alert"


def tried_json(source: TriedSource) -> Iterator[dict[str, Any]]:
    """One object per entry (or one per source that could not be read)."""
    shown = redact_feed_url(source.source) if "://" in source.source else source.source
    if source.error is not None:
        yield {"source": shown, "error": source.error}
        return
    for entry in source.entries:
        a = entry.article
        yield {
            "source": shown,
            "id": a.entry_key,
            "link": a.link,
            "title": a.title,
            "published": rfc3339(a.published),
            "author": a.author,
            "summary": a.summary,
            "content": a.content,
            "alerts": [_match_json(m) for m in entry.matches],
        }


def story_copy_line(copy: StoryCopy) -> str:
    """One copy of a story for ``alerts --story``: why it joined, then what it is."""
    if copy.joined_by == "merged":  # it began a story that #joined_to merged into this one
        why = f"began a story merged in by #{copy.joined_to} ({copy.joined_score:.2f})"
    elif copy.joined_by:
        why = f"joined #{copy.joined_to} by {copy.joined_by} {copy.joined_score:.2f}"
    else:
        why = "began the story"
    carries = f"; alert: {', '.join(copy.alerts)}" if copy.alerts else ""
    return (
        f"#{copy.id} {why}: {copy.feed}: {copy.title} ({copy.link or 'no link'}; "
        f"published {when(copy.published)}, seen {when(copy.seen_at)}{carries})"
    )


def story_copy_json(copy: StoryCopy) -> dict[str, Any]:
    """One copy of a story as ``alerts --story --json`` prints it."""
    return {
        "article": copy.id,
        "title": copy.title,
        "url": copy.link,
        "feed": copy.feed,
        "published": rfc3339(copy.published),
        "seen": rfc3339(copy.seen_at),
        "joined_by": copy.joined_by or None,
        "score": copy.joined_score,
        "joined_to": copy.joined_to,
        "alerts": list(copy.alerts),
    }
