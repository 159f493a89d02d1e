"""Rendering an alert for every destination: the one place where feed text is made safe.

Feed text is hostile. Every renderer here starts from the same cleaned values: control and
bidi-override characters removed, links kept only when they are absolute http(s) URLs (a
``javascript:`` link is never rendered as a link), and then escapes for its own medium:
JSON for webhooks, Slack's ``&``/``<``/``>`` for Slack, HTML for email, nothing that a
terminal would interpret for the console.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any
from urllib.parse import quote, urlsplit

from newswatch.models import Alert, FeedRef, Hit
from newswatch.notify import mailhead

log = logging.getLogger(__name__)

SUBJECT_MAX = 150
TITLE_MAX = 500  # in bodies and on the console; a feed can send a megabyte of "title"
SNIPPET_MAX = 1000
SLACK_SECTION_MAX = 3000
SLACK_BLOCKS_MAX = 50
ELLIPSIS = "…"

# C0/C1 controls, line/paragraph separators and bidi controls (marks, embeddings, overrides
# and isolates, which can make a title read backwards in a terminal or mail client): all
# become spaces before anything is rendered.
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_UNSAFE_TABLE = dict.fromkeys([*_CONTROLS, *_BIDI], " ")
_MSGID_SAFE = re.compile(r"[A-Za-z0-9._+=-]{1,200}")
_LABEL_UNSAFE = re.compile(r"[^a-z0-9-]+")
_MAX_HITS_TO_MARK = 50
_MAX_ALSO = 10
_SLACK_URL_MAX = 1500  # a longer link is shown as plain text: a cut URL is a wrong URL


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


def _matched_pairs(hits: Iterable[Hit]) -> list[tuple[str, str]]:
    """Distinct (term, field) pairs in order of first appearance."""
    return list(dict.fromkeys((hit.term, hit.field) for hit in hits))


def matched_terms(hits: Iterable[Hit]) -> str:
    """``Lukashenko (title, summary), Belarus (title)``: for people, one entry per term."""
    fields: dict[str, list[str]] = {}
    for term, where in _matched_pairs(hits):
        fields.setdefault(clean_line(term), []).append(where)
    return ", ".join(f"{term} ({', '.join(where)})" for term, where in fields.items())


def _utc(dt: datetime) -> datetime:
    """``dt`` in UTC; a naive value is taken to be UTC already (never local time)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso_z(dt: datetime | None) -> str | None:
    """ISO-8601 in UTC with a ``Z``: ``2026-11-24T10:00:00Z``."""
    return None if dt is None else _utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_time(dt: datetime) -> str:
    return _utc(dt).strftime("%Y-%m-%d %H:%M UTC")


# --- webhook ---------------------------------------------------------------------------


def _feed_json(feed: FeedRef) -> dict[str, Any]:
    return {"name": feed.name, "url": safe_link(feed.url)}


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """The JSON body of SPEC §5 "webhook". Text is passed as data (JSON escapes it); links
    that are not http(s) are sent as null."""
    article = alert.article
    kind = {"kind": "feed_health"} if alert.kind == "health" else {}
    return {
        "id": alert.id,
        **kind,
        "watch": alert.watch,
        "matched": [{"term": t, "field": f} for t, f in _matched_pairs(alert.matched)],
        "snippet": alert.snippet,
        "article": {
            "title": article.title,
            "url": safe_link(article.link),
            "published": iso_z(article.published),
            "summary": article.summary,
            "author": article.author,
            "feed": _feed_json(alert.feed),
        },
        "also": [
            {"title": s.title, "url": safe_link(s.url), "feed": _feed_json(s.feed)}
            for s in alert.also
        ],
    }


# --- slack -----------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's three control characters: nothing from a feed can mention, ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str | None, label: str, limit: int) -> str:
    """``<url|label>`` for a safe, not absurdly long URL; the bare escaped label otherwise.
    ``|`` and Slack's specials are percent-encoded in the URL so it cannot end early."""
    text = cut(clean_line(label) or "(untitled)", limit, slack_escape)
    link = safe_link(url)
    if link is None:
        return text
    target = slack_escape(quote(link, safe="/:?#[]@!$&'()*+,;=%-._~"))
    return f"<{target}|{text}>" if len(target) <= _SLACK_URL_MAX else text


def _slack_matched(alert: Alert, limit: int) -> str:
    return "*Matched:* " + cut(matched_terms(alert.matched), limit - 12, slack_escape)


def _slack_context(alert: Alert) -> str:
    feed = clean_line(alert.feed.name) or "(unnamed feed)"
    parts = [f"*{cut(feed, 200, slack_escape)}*"]
    if alert.article.published is not None:
        parts.append(human_time(alert.article.published))
    parts.append(f"watch {cut(clean_line(alert.watch), 100, slack_escape)}")
    return " · ".join(parts)


def _slack_also(alert: Alert, limit: int) -> str | None:
    lines = ["*Also reported by:*"]
    size = len(lines[0])
    for sighting in alert.also[:_MAX_ALSO]:
        feed = cut(clean_line(sighting.feed.name), 100, slack_escape)
        line = f"• {_slack_link(sighting.url, sighting.title, 200)} — {feed}"
        if size + len(line) + 1 > limit:
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) if len(lines) > 1 else None


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_SECTION_MAX]}}


def slack_message(alert: Alert) -> dict[str, Any]:
    """An incoming-webhook message: a ``text`` fallback and a few ``blocks``. Every feed text
    is escaped and every piece has its own budget, so the total stays near 9k characters at
    worst, far below Slack's limits."""
    title = clean_line(alert.article.title) or "(untitled)"
    fallback = (
        f"[{cut(clean_line(alert.watch), 100, slack_escape)}] {cut(title, 300, slack_escape)}"
    )
    blocks = [
        _section("*" + _slack_link(alert.article.link, title, 600) + "*"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_context(alert)}]},
        _section(_slack_matched(alert, 1000)),
    ]
    if clean_line(alert.snippet):
        blocks.append(_section(marked_snippet(alert, 2000, slack_escape, ("*", "*"))))
    also = _slack_also(alert, 2500)
    if also is not None:
        blocks.append(_section(also))
    return {"text": fallback, "blocks": blocks[:SLACK_BLOCKS_MAX]}


# --- email -----------------------------------------------------------------------------


def email_subject(alert: Alert) -> str:
    """``[newswatch] <watch>: <title>``: one line, no controls, at most ``SUBJECT_MAX``."""
    title = clean_line(alert.article.title) or "(untitled)"
    return cut(f"[newswatch] {clean_line(alert.watch)}: {title}", SUBJECT_MAX)


def message_id(alert_id: str) -> str:
    """``<id@newswatch>``; an id with characters a Message-ID cannot carry is hashed."""
    local = alert_id
    if not _MSGID_SAFE.fullmatch(alert_id):
        local = hashlib.sha256(alert_id.encode("utf-8", "replace")).hexdigest()[:40]
    return f"<{local}@newswatch>"


def _list_id(watch: str) -> str:
    label = _LABEL_UNSAFE.sub("-", watch.lower()).strip("-")[:60]
    if not label:
        label = hashlib.sha256(watch.encode("utf-8", "replace")).hexdigest()[:16]
    return f"newswatch {label} <{label}.newswatch>"


def email_facts(alert: Alert) -> list[tuple[str, str]]:
    """Label/value lines shared by the text and HTML bodies (values cleaned, unescaped)."""
    article = alert.article
    feed = cut(clean_line(alert.feed.name), 200)
    facts = [("Watch", clean_line(alert.watch)), ("Feed", feed)]
    if article.published is not None:
        facts.append(("Published", human_time(article.published)))
    if clean_line(article.author):
        facts.append(("Author", cut(clean_line(article.author), 200)))
    facts.append(("Matched", cut(matched_terms(alert.matched), 1000)))
    return facts


def _email_text(alert: Alert) -> str:
    article = alert.article
    lines = [cut(clean_line(article.title) or "(untitled)", TITLE_MAX)]
    link = safe_link(article.link)
    if link:
        lines.append(link)
    lines += ["", *(f"{label}: {value}" for label, value in email_facts(alert))]
    if clean_line(alert.snippet):
        lines += ["", plain_snippet(alert)]
    summary = clean_line(article.summary)
    if summary:
        lines += ["", cut(summary, 1500)]
    if alert.also:
        lines += ["", "Also reported by:"]
        lines += [f"- {_plain_sighting(s.title, s.url, s.feed)}" for s in alert.also[:_MAX_ALSO]]
    return "\n".join(lines) + "\n"


def html_link(url: str | None, label: str) -> str:
    escaped = html.escape(label)
    link = safe_link(url)
    return f'<a href="{html.escape(link)}">{escaped}</a>' if link else escaped


def _email_html(alert: Alert) -> str:
    article = alert.article
    title = cut(clean_line(article.title) or "(untitled)", TITLE_MAX)
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>',
        f"<h2>{html_link(article.link, title)}</h2>",
        "<p>"
        + "<br>".join(f"<b>{k}:</b> {html.escape(v)}" for k, v in email_facts(alert))
        + "</p>",
    ]
    if clean_line(alert.snippet):
        snippet = marked_snippet(alert, SNIPPET_MAX * 2, html.escape, ("<mark>", "</mark>"))
        parts.append(f"<blockquote>{snippet}</blockquote>")
    summary = clean_line(article.summary)
    if summary:
        parts.append(f"<p>{html.escape(cut(summary, 1500))}</p>")
    if alert.also:
        items = "".join(
            f"<li>{html_link(s.url, cut(clean_line(s.title) or '(untitled)', 200))}"
            f" — {html.escape(cut(clean_line(s.feed.name), 100))}</li>"
            for s in alert.also[:_MAX_ALSO]
        )
        parts.append(f"<p><b>Also reported by:</b></p><ul>{items}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def email_message(
    alert: Alert,
    sender: str,
    to: Sequence[str],
    *,
    subject: str | None = None,
    text: str | None = None,
    html_body: str | None = None,
) -> EmailMessage:
    """A ``multipart/alternative`` mail (text + HTML). ``subject``, ``text`` and
    ``html_body`` (from user templates) replace the built-in parts; an HTML fragment is
    wrapped in a document."""
    thread = alert.thread_id if alert.thread_id and alert.thread_id != alert.id else None
    if html_body and not html_body.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        html_body = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>\n'
            f"{html_body}\n</body></html>\n"
        )
    return mail(
        subject=subject or email_subject(alert),
        key=alert.id,
        watch=alert.watch,
        created_at=alert.created_at,
        sender=sender,
        to=to,
        text=(text + "\n" if text else None) or _email_text(alert),
        html_body=html_body or _email_html(alert),
        thread=thread,
    )


def mail(
    *,
    subject: str,
    key: str,
    watch: str,
    created_at: datetime,
    sender: str,
    to: Sequence[str],
    text: str,
    html_body: str,
    thread: str | None = None,
) -> EmailMessage:
    """The mail newswatch sends for an alert or a digest. ``subject`` is made one line
    again here, whatever built it; ``key`` becomes the Message-ID, ``thread`` (the first
    alert on the same story) In-Reply-To and References. Headers are written by
    ``notify.mailhead`` and the message is read back before it is returned; should the
    subject still not read back as written, the mail goes out with a subject made of the
    watch alone rather than not at all."""
    line = cut(clean_line(subject) or "[newswatch]", SUBJECT_MAX)
    headers = [
        ("From", formataddr(("newswatch", sender))),
        ("To", ", ".join(to)),
        ("Date", format_datetime(_utc(created_at))),
        ("Message-ID", message_id(key)),
    ]
    if thread:
        headers += [("In-Reply-To", message_id(thread)), ("References", message_id(thread))]
    headers += [
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: no vacation replies, please
        ("List-Id", _list_id(clean_line(watch))),
    ]
    try:
        return mailhead.build([("Subject", line), *headers], text, html_body)
    except mailhead.UnsafeMailError as exc:
        log.warning("mail subject withheld message_id=%s reason=%s", message_id(key), exc)
    fallback = cut(f"[newswatch] {clean_line(watch)}", SUBJECT_MAX)
    return mailhead.build([("Subject", fallback), *headers], text, html_body)


# --- plain text (email text part, console) ---------------------------------------------


def plain_snippet(alert: Alert) -> str:
    """The snippet with its first hit between ``**`` marks."""
    return marked_snippet(alert, SNIPPET_MAX, str, ("**", "**"))


def _plain_sighting(title: str, url: str | None, feed: FeedRef) -> str:
    text = f"{cut(clean_line(title) or '(untitled)', 200)} — {cut(clean_line(feed.name), 100)}"
    link = safe_link(url)
    return f"{text} <{link}>" if link else text


def console_text(alert: Alert) -> str:
    """One readable block for a terminal or the journal; no escape sequence from a feed
    can reach the terminal."""
    article = alert.article
    head = [clean_line(alert.feed.name)]
    if article.published is not None:
        head.append(human_time(article.published))
    title = cut(clean_line(article.title) or "(untitled)", TITLE_MAX)
    lines = [f"[{clean_line(alert.watch)}] {title}"]
    lines.append("  feed:    " + " · ".join(head))
    link = safe_link(article.link)
    if link:
        lines.append(f"  link:    {link}")
    if alert.matched:
        lines.append(f"  matched: {cut(matched_terms(alert.matched), 500)}")
    if clean_line(alert.snippet):
        lines.append(f"  {plain_snippet(alert)}")
    for sighting in alert.also[:_MAX_ALSO]:
        lines.append(f"  also:    {_plain_sighting(sighting.title, sighting.url, sighting.feed)}")
    return "\n".join(lines)
