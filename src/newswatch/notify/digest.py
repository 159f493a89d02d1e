"""Rendering a digest (several alerts of one watch in one message) for every destination.

Built from the same cleaned, escaped pieces as single alerts (``notify.clean``,
``notify.render``), with a smaller budget per alert so that a whole digest stays within
each medium's limits: a Slack digest lists at most ``SLACK_DIGEST_MAX`` alerts and stays
under ~11,000 characters; the outbox never puts more alerts in one digest than its
notifier takes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from email.message import EmailMessage

from newswatch.models import Digest
from newswatch.notify.clean import (
    clean_line,
    clean_title,
    count_alerts,
    cut,
    plain_snippet,
    safe_link,
)
from newswatch.notify.render import SUBJECT_MAX, email_facts, html_link, mail

EMAIL_DIGEST_MAX = 50


# --- email -----------------------------------------------------------------------------


def email_digest_subject(digest: Digest) -> str:
    """``[newswatch] <watch>: 12 alerts — <first title>``, one line, at most SUBJECT_MAX."""
    first = clean_title(digest.alerts[0], SUBJECT_MAX) if digest.alerts else ""
    text = f"[newswatch] {clean_line(digest.watch)}: {count_alerts(digest)}"
    return cut(f"{text} — {first}" if first else text, SUBJECT_MAX)


def _digest_text(digest: Digest) -> str:
    lines = [f"{count_alerts(digest)} for watch {clean_line(digest.watch)}", ""]
    for number, alert in enumerate(digest.alerts, 1):
        lines.append(f"{number}. {clean_title(alert, 300)}")
        link = safe_link(alert.article.link)
        if link:
            lines.append(f"   {link}")
        lines += [f"   {label}: {value}" for label, value in email_facts(alert) if label != "Watch"]
        if clean_line(alert.snippet):
            lines.append(f"   {plain_snippet(alert)}")
        lines.append("")
    return "\n".join(lines)


def _digest_html(digest: Digest) -> str:
    items = []
    for alert in digest.alerts:
        facts = "<br>".join(
            f"<b>{label}:</b> {html.escape(value)}"
            for label, value in email_facts(alert)
            if label != "Watch"
        )
        snippet = clean_line(alert.snippet)
        quote_html = f"<blockquote>{html.escape(cut(snippet, 600))}</blockquote>" if snippet else ""
        link = html_link(alert.article.link, clean_title(alert, 300))
        items.append(f"<li><p><b>{link}</b><br>{facts}</p>{quote_html}</li>")
    head = html.escape(f"{count_alerts(digest)} for watch {clean_line(digest.watch)}")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>\n'
        f"<h2>{head}</h2>\n<ol>\n" + "\n".join(items) + "\n</ol>\n</body></html>\n"
    )


def email_digest_message(digest: Digest, sender: str, to: Sequence[str]) -> EmailMessage:
    """One ``multipart/alternative`` mail listing the digest's alerts; its Message-ID is
    derived from the digest id, so a retried digest can be recognised as the same mail."""
    return mail(
        subject=email_digest_subject(digest),
        key=digest.id,
        watch=digest.watch,
        created_at=digest.created_at,
        sender=sender,
        to=to,
        text=_digest_text(digest),
        html_body=_digest_html(digest),
    )
