"""Apprise destination: one notification per alert or digest to every URL in ``urls``,
through the apprise library (Telegram, Discord, ntfy, Matrix, Teams, Pushover, ...).

The title is ``[newswatch] <watch>: <article title>``; the body (link, feed, time, matched
terms, snippet, other outlets) is built from ``notify.clean``'s cleaned values and escaped
for the chosen ``format`` (``text``, ``markdown`` or ``html``), which apprise converts to
each service's own. Apprise is blocking (requests), so each send runs in this notifier's
own worker thread under the destination's ``timeout`` as one deadline. A URL that accepted
a message is not sent it again when a retry is for another URL that failed. Apprise
reports only "failed": every failure is transient, and ``max_attempts`` ends it. The URLs
are credentials: error texts name a service only by its scheme.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from newswatch.config.appriseurls import captured_warnings, load_apprise, scheme_of
from newswatch.config.schema import AppriseDestination
from newswatch.errors import TransientDeliveryError
from newswatch.models import Alert, Digest
from newswatch.notify.base import Scrubber
from newswatch.notify.clean import (
    MAX_ALSO,
    SNIPPET_MAX,
    TITLE_MAX,
    clean_line,
    count_alerts,
    cut,
    digest_headline,
    headline,
    human_time,
    marked_snippet,
    matched_terms,
    safe_link,
)

__all__ = ["APPRISE_DIGEST_MAX", "AppriseNotifier", "apprise_body", "apprise_digest_body"]

APPRISE_DIGEST_MAX: Final = 10  # chat services cut long messages (Telegram: 4096 chars)
APPRISE_TITLE_MAX: Final = 250
_REMEMBERED: Final = 1000  # messages whose per-URL outcomes are kept for their retries
_MARKDOWN_SPECIAL: Final = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_URL_SAFE: Final = "/:?#@!$&'*+,;=%-._~"


def markdown_escape(text: str) -> str:
    """Feed text as literal Markdown: no feed can make a link, a heading or an image."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


@dataclass(frozen=True, slots=True)
class _Style:
    """How one ``format`` writes escaped text, links, emphasis and line breaks."""

    escape: Callable[[str], str]
    link: Callable[[str, str], str]  # (escaped label, safe URL) -> markup
    bold: tuple[str, str]
    newline: str
    rule: str


_STYLES: Final = {
    "text": _Style(str, lambda label, url: f"{label} <{url}>", ("**", "**"), "\n", "\n---\n"),
    "markdown": _Style(
        markdown_escape,
        lambda label, url: f"[{label}]({quote(url, safe=_URL_SAFE)})",
        ("**", "**"),
        "  \n",
        "\n\n---\n\n",
    ),
    "html": _Style(
        lambda text: html.escape(text, quote=True),
        lambda label, url: f'<a href="{html.escape(url, quote=True)}">{label}</a>',
        ("<b>", "</b>"),
        "<br>\n",
        "\n<hr>\n",
    ),
}


def _linked(style: _Style, label: str, url: str | None) -> str:
    link = safe_link(url)
    return style.link(label, link) if link else label


def _head(alert: Alert, style: _Style) -> list[str]:
    """The linked title, the feed and time, the matched terms."""
    article = alert.article
    title = cut(clean_line(article.title) or "(untitled)", TITLE_MAX, style.escape)
    feed = cut(clean_line(alert.feed.name), 200, style.escape)
    when = f" · {human_time(article.published)}" if article.published is not None else ""
    lines = [_linked(style, title, article.link), f"Feed: {feed}{when}"]
    if alert.matched:
        lines.append("Matched: " + cut(matched_terms(alert.matched), 500, style.escape))
    return lines


def apprise_body(alert: Alert, format: str = "text") -> str:
    """The notification body of one alert in ``format`` (text, markdown or html)."""
    style = _STYLES[format]
    lines = _head(alert, style)
    if clean_line(alert.snippet):
        lines += ["", marked_snippet(alert, SNIPPET_MAX, style.escape, style.bold)]
    if alert.also:
        lines += ["", "Also reported by:"]
        for sighting in alert.also[:MAX_ALSO]:
            title = cut(clean_line(sighting.title) or "(untitled)", 200, style.escape)
            outlet = cut(clean_line(sighting.feed.name), 100, style.escape)
            lines.append(f"- {_linked(style, title, sighting.url)} — {outlet}")
    return style.newline.join(lines)


def apprise_digest_body(digest: Digest, format: str = "text") -> str:
    """One body for a digest: its size, then each alert's title, link, feed and terms."""
    style = _STYLES[format]
    blocks = [style.escape(f"{clean_line(digest.watch)}: {count_alerts(digest)}")]
    blocks += [style.newline.join(_head(alert, style)) for alert in digest.alerts]
    return style.rule.join(blocks)


def _url_secrets(url: str) -> list[str]:
    """Every part of an Apprise URL that may be a credential: in Apprise URLs the host
    itself is often a token (``tgram://TOKEN/CHAT``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    pieces = [parts.netloc, parts.hostname or "", parts.path, parts.query]
    pieces += [unquote(p) for p in re.split(r"[/&=?:@]", f"{parts.netloc}{parts.path}")]
    return [p for p in pieces if len(p) >= 4]


class AppriseNotifier:
    """Sends each alert as one notification to every URL of an apprise destination."""

    digest_max = APPRISE_DIGEST_MAX

    def __init__(self, destination: AppriseDestination) -> None:
        apprise = load_apprise()  # imported here: only when such a destination exists
        self.name = destination.name
        self._format = destination.format
        self._body_format = getattr(apprise.NotifyFormat, destination.format.upper())
        self._timeout = destination.timeout.total_seconds()
        urls = [url.get_secret_value().strip() for url in destination.urls]
        self._services: list[tuple[str, Any]] = []
        for url in urls:
            service = apprise.Apprise()
            service.add(url)
            self._services.append((f"{scheme_of(url)}://…", service))
        secrets = [part for url in urls for part in (url, *_url_secrets(url))]
        self._scrub = Scrubber(urls[0], secrets)
        self._accepted: OrderedDict[str, set[int]] = OrderedDict()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apprise")

    async def send(self, alert: Alert) -> None:
        """Notify every URL; return once each has accepted the alert."""
        title = headline(alert, APPRISE_TITLE_MAX)
        await self._deliver(alert.id, title, apprise_body(alert, self._format))

    async def send_digest(self, digest: Digest) -> None:
        """Notify every URL of several alerts of one watch, in one message."""
        title = digest_headline(digest, APPRISE_TITLE_MAX)
        await self._deliver(digest.id, title, apprise_digest_body(digest, self._format))

    async def _deliver(self, key: str, title: str, body: str) -> None:
        """Send to each URL that has not accepted message ``key`` yet, within the deadline."""
        accepted = self._accepted.setdefault(key, set())
        self._accepted.move_to_end(key)
        while len(self._accepted) > _REMEMBERED:
            self._accepted.popitem(last=False)
        failures = []
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                for index, (where, service) in enumerate(self._services):
                    if index in accepted:
                        continue
                    ok, detail = await loop.run_in_executor(
                        self._executor, _notify, service, title, body, self._body_format
                    )
                    if ok:
                        accepted.add(index)
                    else:
                        failures.append(f"{where}: {detail}")
        except TimeoutError:
            failures.append(f"no answer within {self._timeout:g} s")
        if failures:
            message = f"apprise did not deliver to {'; '.join(failures)}"
            raise TransientDeliveryError(self._scrub(cut(message, 600)), destination=self.name)
        self._accepted.pop(key, None)

    async def aclose(self) -> None:
        """Let the worker thread go; a send still running there ends on its own timeout."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def _notify(service: Any, title: str, body: str, body_format: Any) -> tuple[bool, str]:
    """In the worker thread: one apprise call; whether it succeeded, and apprise's words
    on why not (unscrubbed: the caller scrubs)."""
    with captured_warnings() as warnings:
        try:
            ok = bool(service.notify(body=body, title=title, body_format=body_format))
        except Exception as exc:  # a plugin bug must not crash the delivery lane
            return False, f"{type(exc).__name__} in apprise"
    if ok:
        return True, ""
    return False, " ".join(clean_line(w) for w in warnings[-3:]) or "the service refused it"
