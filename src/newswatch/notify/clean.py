"""Feed text made safe for every medium: the one place where feed text is cleaned.

Feed text is hostile. Every destination starts from the same cleaned values: control and
bidi-override characters removed, links kept only when they are absolute http(s) URLs (a
``javascript:`` link is never rendered as a link), text cut to a budget without breaking
an escape; then each destination module applies its own medium's escapes (JSON for
webhooks, Slack's ``&``/``<``/``>``, HTML for email, nothing that a terminal would
interpret for the console). Slack's escape lives here too because the template sandbox
(``notify.templates``) needs it as well as ``notify.slack``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from newswatch.models import Alert, Digest, FeedRef, Hit

TITLE_MAX = 500  # in bodies and on the console; a feed can send a megabyte of "title"
SNIPPET_MAX = 1000
MAX_ALSO = 10  # sightings shown under one alert
ELLIPSIS = "…"

# C0/C1 controls, line/paragraph separators and bidi controls (marks, embeddings, overrides
# and isolates, which can make a title read backwards in a terminal or mail client): all
# become spaces before anything is rendered.
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_UNSAFE_TABLE = dict.fromkeys([*_CONTROLS, *_BIDI], " ")
_MAX_HITS_TO_MARK = 50
_SLACK_URL_SAFE = "/:?#[]@!$&'()*+,;=%-._~"


# --- cleaning --------------------------------------------------------------------------


def clean_line(text: str | None) -> str:
    """``text`` as one line: controls and separators become spaces, whitespace runs collapse,
    lone surrogates (which no encoder accepts) become ``?``."""
    if not text:
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return " ".join(text.translate(_UNSAFE_TABLE).split())


def safe_link(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host and no whitespace or controls,
    else None: only such links are ever rendered as links."""
    if not url:
        return None
    url = url.strip()
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def cut(
    text: str, limit: int, escape: Callable[[str], str] = str, *, keep_end: bool = False
) -> str:
    """``escape(text)`` in at most ``limit`` characters, never cut inside an escape; when cut,
    an ellipsis marks the side that lost text (the start when ``keep_end``)."""
    full = escape(text)
    if len(full) <= limit:
        return full
    pieces: list[str] = []
    size = 0
    for ch in reversed(text) if keep_end else text:
        piece = escape(ch)
        if size + len(piece) > limit - 1:
            break
        pieces.append(piece)
        size += len(piece)
    if keep_end:
        return ELLIPSIS + "".join(reversed(pieces))
    return "".join(pieces) + ELLIPSIS


def clean_title(alert: Alert, limit: int) -> str:
    """The article's cleaned title (``(untitled)`` when it has none) in ``limit`` characters."""
    return cut(clean_line(alert.article.title) or "(untitled)", limit)


def headline(alert: Alert, limit: int) -> str:
    """``[newswatch] <watch>: <title>``: the one-line title of an alert in every medium
    that has one (email subject, Apprise title), at most ``limit`` characters."""
    title = clean_line(alert.article.title) or "(untitled)"
    return cut(f"[newswatch] {clean_line(alert.watch)}: {title}", limit)


def digest_headline(digest: Digest, limit: int) -> str:
    """``[newswatch] <watch>: 12 alerts — <first title>``, at most ``limit`` characters."""
    first = clean_title(digest.alerts[0], limit) if digest.alerts else ""
    text = f"[newswatch] {clean_line(digest.watch)}: {count_alerts(digest)}"
    return cut(f"{text} — {first}" if first else text, limit)


def count_alerts(digest: Digest) -> str:
    """``1 alert`` or ``12 alerts``: how every digest names its size."""
    n = len(digest.alerts)
    return f"{n} alert" if n == 1 else f"{n} alerts"


# --- the snippet and its first hit -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Marked:
    """The snippet split around the first hit it shows."""

    before: str
    hit: str
    after: str


def _mark_first_hit(snippet: str, hits: Sequence[Hit]) -> _Marked | None:
    """Find the earliest place in ``snippet`` where a hit's text occurs (case-insensitive,
    any whitespace between words), so each medium can highlight it its own way."""
    best: re.Match[str] | None = None
    seen: set[str] = set()
    for hit in hits[:_MAX_HITS_TO_MARK]:
        words = clean_line(hit.text).split()
        key = " ".join(words).casefold()
        if not words or key in seen:
            continue
        seen.add(key)
        found = re.search(r"\s+".join(map(re.escape, words)), snippet, re.IGNORECASE)
        if found and (best is None or found.start() < best.start()):
            best = found
    if best is None:
        return None
    return _Marked(snippet[: best.start()], best.group(), snippet[best.end() :])


def marked_snippet(
    alert: Alert, limit: int, escape: Callable[[str], str], marks: tuple[str, str]
) -> str:
    """The cleaned snippet, escaped for a medium, within ``limit`` characters, with its first
    hit between ``marks`` (``*``/``*`` for Slack, ``<mark>``/``</mark>`` for HTML); when the
    snippet is cut, the text around the hit is what stays."""
    snippet = clean_line(alert.snippet)
    marked = _mark_first_hit(snippet, alert.matched)
    if marked is None:
        return cut(snippet, limit, escape)
    hit = cut(marked.hit, 300, escape)
    room = max(limit - len(hit) - len(marks[0]) - len(marks[1]), 0)
    before = cut(marked.before, room // 2, escape, keep_end=True)
    after = cut(marked.after, room - len(before), escape)
    return f"{before}{marks[0]}{hit}{marks[1]}{after}"


# --- matched terms and times -----------------------------------------------------------


def matched_pairs(hits: Iterable[Hit]) -> list[tuple[str, str]]:
    """Distinct (term, field) pairs in order of first appearance."""
    return list(dict.fromkeys((hit.term, hit.field) for hit in hits))


def matched_terms(hits: Iterable[Hit]) -> str:
    """``Lukashenko (title, summary), Belarus (title)``: for people, one entry per term."""
    fields: dict[str, list[str]] = {}
    for term, where in matched_pairs(hits):
        fields.setdefault(clean_line(term), []).append(where)
    return ", ".join(f"{term} ({', '.join(where)})" for term, where in fields.items())


def utc(dt: datetime) -> datetime:
    """``dt`` in UTC; a naive value is taken to be UTC already (never local time)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso_z(dt: datetime | None) -> str | None:
    """ISO-8601 in UTC with a ``Z``: ``2026-11-24T10:00:00Z``."""
    return None if dt is None else utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_time(dt: datetime) -> str:
    """``2026-11-24 10:00 UTC``: how a person reads an article's time in any medium."""
    return utc(dt).strftime("%Y-%m-%d %H:%M UTC")


# --- plain text (email text part, console) ---------------------------------------------


def plain_snippet(alert: Alert) -> str:
    """The snippet with its first hit between ``**`` marks."""
    return marked_snippet(alert, SNIPPET_MAX, str, ("**", "**"))


def plain_sighting(title: str, url: str | None, feed: FeedRef) -> str:
    """``title — feed <url>`` for one "also reported by" line; the link only when safe."""
    text = f"{cut(clean_line(title) or '(untitled)', 200)} — {cut(clean_line(feed.name), 100)}"
    link = safe_link(url)
    return f"{text} <{link}>" if link else text


# --- Slack's markup (notify.slack and the template sandbox) ----------------------------


def slack_escape(text: str) -> str:
    """Slack's three control characters: nothing from a feed can mention, ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_target(link: str) -> str:
    """A safe link as it stands inside Slack's ``<url|label>``: ``|`` and Slack's specials
    percent-encoded, so the URL cannot end the link early."""
    return slack_escape(quote(link, safe=_SLACK_URL_SAFE))
