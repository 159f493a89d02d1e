"""Email destination: one ``multipart/alternative`` mail per alert or digest over SMTP.

The mail is built from ``notify.clean``'s cleaned values (HTML-escaped in the HTML part),
and its headers are written and read back by ``notify.mailhead``, so no feed can forge a
header. smtplib is blocking, so each send runs in a worker thread. TLS is never silently
dropped: ``starttls`` fails when the server does not offer STARTTLS, ``ssl`` is TLS from
the first byte, ``none`` is plain text (for a relay on localhost). Outcomes: 250
accepted; 4xx, dropped connections and timeouts transient; 5xx, refused recipients and
missing server features permanent.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from newswatch.config.schema import EmailDestination
from newswatch.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from newswatch.models import Alert, Digest
from newswatch.notify import mailhead
from newswatch.notify.clean import (
    MAX_ALSO,
    SNIPPET_MAX,
    TITLE_MAX,
    clean_line,
    clean_title,
    count_alerts,
    cut,
    digest_headline,
    headline,
    human_time,
    marked_snippet,
    matched_terms,
    plain_sighting,
    plain_snippet,
    safe_link,
    utc,
)
from newswatch.notify.templates import AlertTemplate, Medium

log = logging.getLogger(__name__)

SUBJECT_MAX = 150
EMAIL_DIGEST_MAX = 50
_MSGID_SAFE = re.compile(r"[A-Za-z0-9._+=-]{1,200}")
_LABEL_UNSAFE = re.compile(r"[^a-z0-9-]+")


# --- one alert -------------------------------------------------------------------------


def email_subject(alert: Alert) -> str:
    """``[newswatch] <watch>: <title>``: one line, no controls, at most ``SUBJECT_MAX``."""
    return headline(alert, SUBJECT_MAX)


def message_id(alert_id: str) -> str:
    """``<id@newswatch>``; an id with characters a Message-ID cannot carry is hashed."""
    local = alert_id
    if not _MSGID_SAFE.fullmatch(alert_id):
        local = hashlib.sha256(alert_id.encode("utf-8", "replace")).hexdigest()[:40]
    return f"<{local}@newswatch>"


def _list_id(watch: str) -> str:
    """``newswatch <label> <label.newswatch>``: one list per watch, so mail clients can filter
    (a label with nothing usable left is hashed)."""
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
    """The built-in text part: title, link, facts, marked snippet, summary, sightings."""
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
    """``<a href>`` around the escaped ``label`` for a safe link; the label alone else."""
    escaped = html.escape(label)
    link = safe_link(url)
    return f'<a href="{html.escape(link)}">{escaped}</a>' if link else escaped


def _email_html(alert: Alert) -> str:
    """The built-in HTML part: the text part's content, escaped, with the hit in ``<mark>``."""
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


# --- a digest --------------------------------------------------------------------------


def email_digest_subject(digest: Digest) -> str:
    """``[newswatch] <watch>: 12 alerts — <first title>``, one line, at most SUBJECT_MAX."""
    return digest_headline(digest, SUBJECT_MAX)


def _digest_text(digest: Digest) -> str:
    """The digest's text part: a numbered list of the alerts with their facts."""
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
    """The digest's HTML part: the same list, escaped, as an ``<ol>``."""
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


# --- the SMTP client -------------------------------------------------------------------


class EmailNotifier:
    """Sends each alert by SMTP to the destination's recipients."""

    digest_max = EMAIL_DIGEST_MAX

    def __init__(
        self, destination: EmailDestination, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.name = destination.name
        self._dest = destination
        self._where = f"{destination.host}:{destination.effective_port}"
        ca_file = str(destination.tls_ca_file) if destination.tls_ca_file else None
        self._ssl = ssl_context or ssl.create_default_context(cafile=ca_file)
        sources: list[tuple[str, str | None, Medium]] = [
            ("subject_template", destination.subject_template, "text"),
            ("text_template", destination.text_template, "text"),
            ("html_template", destination.html_template, "html"),
        ]
        self._templates = {
            what: AlertTemplate(source, medium, destination=self.name, what=what)
            for what, source, medium in sources
            if source
        }

    async def send(self, alert: Alert) -> None:
        """Send the alert's mail; return once the server accepted it (250)."""
        await self._send(self._built(lambda: self.message(alert)))

    async def send_digest(self, digest: Digest) -> None:
        """Send one mail listing the digest's alerts."""
        dest = self._dest
        await self._send(self._built(lambda: email_digest_message(digest, dest.sender, dest.to)))

    def message(self, alert: Alert) -> EmailMessage:
        """The alert's mail: built in, with the parts the user has templates for replaced."""
        parts = {what: t.render(alert) for what, t in self._templates.items()}
        return email_message(
            alert,
            self._dest.sender,
            self._dest.to,
            subject=parts.get("subject_template"),
            text=parts.get("text_template"),
            html_body=parts.get("html_template"),
        )

    def _built(self, make: Callable[[], EmailMessage]) -> EmailMessage:
        """The message ``make`` builds; one that would not read back as written is a
        permanent failure (dead, visible in ``alerts``), never sent as is."""
        try:
            return make()
        except mailhead.UnsafeMailError as exc:
            raise PermanentDeliveryError(
                f"unsafe mail not sent: {exc}", destination=self.name
            ) from exc

    async def _send(self, msg: EmailMessage) -> None:
        # A daemon thread, not the default executor: a stuck SMTP exchange must not hold
        # up the process's exit after SIGTERM (the mail then stays pending, same Message-ID).
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def run() -> None:
            try:
                self._deliver(msg)
            except BaseException as exc:  # handed to the awaiting task
                error = exc
                loop.call_soon_threadsafe(_settle, done, error)
            else:
                loop.call_soon_threadsafe(_settle, done, None)

        threading.Thread(target=run, name=f"smtp-{self.name}", daemon=True).start()
        await done

    async def aclose(self) -> None:
        """Nothing to release: every send uses its own connection."""

    def _deliver(self, msg: EmailMessage) -> None:
        """Transmit ``msg`` and turn every smtplib/socket failure into a DeliveryError."""
        try:
            refused = self._transmit(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise self._refused(exc.recipients) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise self._error(f"connection closed by {self._where}: {exc}", 421) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._response_error(exc) from exc
        except smtplib.SMTPException as exc:  # e.g. STARTTLS or AUTH not offered
            raise self._error(f"{self._where}: {exc}", 550) from exc
        except OSError as exc:  # refused, unreachable, timed out, TLS handshake failed
            detail = clean_line(str(exc)) or type(exc).__name__
            raise self._error(f"cannot talk to {self._where}: {detail}", 421) from exc
        if refused:
            log.warning(
                "email partly refused destination=%s refused=%s", self.name, sorted(refused)
            )

    def _transmit(self, msg: EmailMessage) -> dict[str, tuple[int, bytes]]:
        """One SMTP session: connect, secure, log in, send; returns the refused recipients
        when only some were refused (all refused raises)."""
        dest = self._dest
        timeout = dest.timeout.total_seconds()
        smtp: smtplib.SMTP
        if dest.security == "ssl":
            port = dest.effective_port
            smtp = smtplib.SMTP_SSL(dest.host, port, timeout=timeout, context=self._ssl)
        else:
            smtp = smtplib.SMTP(dest.host, dest.effective_port, timeout=timeout)
        with smtp:
            if dest.security == "starttls":
                smtp.starttls(context=self._ssl)
            if dest.username:
                password = dest.password.get_secret_value() if dest.password else ""
                smtp.login(dest.username, password)
            return smtp.send_message(msg, from_addr=dest.sender, to_addrs=list(dest.to))

    def _error(self, message: str, code: int) -> DeliveryError:
        """Transient for 4xx-like codes, permanent otherwise."""
        text = cut(clean_line(message), 500)
        if 400 <= code < 500:
            return TransientDeliveryError(text, destination=self.name)
        return PermanentDeliveryError(text, destination=self.name)

    def _response_error(self, exc: smtplib.SMTPResponseException) -> DeliveryError:
        reply = exc.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return self._error(f"SMTP {exc.smtp_code} from {self._where}: {text}", exc.smtp_code)

    def _refused(self, recipients: dict[str, tuple[int, bytes]]) -> DeliveryError:
        """Every recipient was refused: transient if any refusal was temporary (4xx,
        e.g. greylisting), permanent otherwise."""
        details = "; ".join(
            f"{addr}: {code} {reply.decode('utf-8', 'replace')}"
            for addr, (code, reply) in sorted(recipients.items())
        )
        code = min((c for c, _ in recipients.values()), default=550)
        return self._error(f"{self._where} refused every recipient: {details}", code)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    """Complete ``future`` from the SMTP thread's result, unless it was cancelled."""
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
