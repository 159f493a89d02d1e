"""Rendering an alert for webhooks, Slack, email and the console.

Every renderer starts from the values ``notify.clean`` made safe, then escapes for its own
medium: JSON for webhooks, Slack's ``&``/``<``/``>`` for Slack, HTML for email, nothing
that a terminal would interpret for the console.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from newswatch.models import Alert
from newswatch.notify import mailhead
from newswatch.notify.clean import (
    MAX_ALSO,
    SNIPPET_MAX,
    TITLE_MAX,
    clean_line,
    cut,
    human_time,
    marked_snippet,
    matched_terms,
    plain_sighting,
    plain_snippet,
    safe_link,
    utc,
)

log = logging.getLogger(__name__)

SUBJECT_MAX = 150
_MSGID_SAFE = re.compile(r"[A-Za-z0-9._+=-]{1,200}")
_LABEL_UNSAFE = re.compile(r"[^a-z0-9-]+")


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
        lines += [f"- {plain_sighting(s.title, s.url, s.feed)}" for s in alert.also[:MAX_ALSO]]
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
            for s in alert.also[:MAX_ALSO]
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
        ("Date", format_datetime(utc(created_at))),
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
