"""Slack destination: one incoming-webhook message per alert or digest.

Every feed text is cleaned (``notify.clean``) and Slack-escaped, so nothing from a feed can
mention, ping or link; every piece of a message has its own budget, so messages stay far
below Slack's limits. Slack answers 200 ``ok`` when it took the message; 400
``invalid_payload``, 403, 404 ``no_service``/``channel_not_found`` and 410
``channel_is_archived`` cannot be cured by retrying (permanent); 429 comes with a
``Retry-After`` (transient).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from newswatch.config.schema import SlackDestination
from newswatch.models import Alert, Digest
from newswatch.notify.base import JsonPoster, encode_json
from newswatch.notify.clean import (
    MAX_ALSO,
    clean_line,
    clean_title,
    count_alerts,
    cut,
    human_time,
    marked_snippet,
    matched_terms,
    safe_link,
    slack_escape,
    slack_target,
)
from newswatch.notify.templates import AlertTemplate

SLACK_SECTION_MAX = 3000
SLACK_BLOCKS_MAX = 50
SLACK_DIGEST_MAX = 15  # alerts in one Slack message: ~700 characters each at most
_SLACK_URL_MAX = 1500  # a longer link is shown as plain text
_SLACK_DIGEST_URL_MAX = 300


# --- one alert -------------------------------------------------------------------------


def _slack_link(url: str | None, label: str, limit: int, *, url_max: int = _SLACK_URL_MAX) -> str:
    """``<url|label>`` for a safe URL of at most ``url_max`` characters (a cut URL is a
    wrong URL); the bare escaped label otherwise. ``|`` and Slack's specials are
    percent-encoded in the URL so it cannot end early."""
    text = cut(clean_line(label) or "(untitled)", limit, slack_escape)
    link = safe_link(url)
    if link is None:
        return text
    target = slack_target(link)
    return f"<{target}|{text}>" if len(target) <= url_max else text


def _slack_matched(alert: Alert, limit: int) -> str:
    """``*Matched:* <terms>`` within ``limit`` characters."""
    return "*Matched:* " + cut(matched_terms(alert.matched), limit - 12, slack_escape)


def _slack_context(alert: Alert) -> str:
    """The context line under the title: feed, time (when known) and watch."""
    feed = clean_line(alert.feed.name) or "(unnamed feed)"
    parts = [f"*{cut(feed, 200, slack_escape)}*"]
    if alert.article.published is not None:
        parts.append(human_time(alert.article.published))
    parts.append(f"watch {cut(clean_line(alert.watch), 100, slack_escape)}")
    return " · ".join(parts)


def _slack_also(alert: Alert, limit: int) -> str | None:
    """The "also reported by" list within ``limit`` characters; None when it is empty."""
    lines = ["*Also reported by:*"]
    size = len(lines[0])
    for sighting in alert.also[:MAX_ALSO]:
        feed = cut(clean_line(sighting.feed.name), 100, slack_escape)
        line = f"• {_slack_link(sighting.url, sighting.title, 200)} — {feed}"
        if size + len(line) + 1 > limit:
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) if len(lines) > 1 else None


def _section(text: str) -> dict[str, Any]:
    """A mrkdwn section block, cut to Slack's limit for one section."""
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


# --- a digest --------------------------------------------------------------------------


def slack_digest_entry(alert: Alert) -> str:
    """One alert's lines in a Slack digest: linked title, then feed, time and terms."""
    facts = [f"_{cut(clean_line(alert.feed.name) or '(unnamed feed)', 80, slack_escape)}_"]
    if alert.article.published is not None:
        facts.append(human_time(alert.article.published))
    facts.append(cut(matched_terms(alert.matched), 150, slack_escape))
    link = _slack_link(alert.article.link, alert.article.title, 150, url_max=_SLACK_DIGEST_URL_MAX)
    return f"• *{link}*\n{' · '.join(facts)}"


def slack_digest_message(digest: Digest) -> dict[str, Any]:
    """One Slack message listing the digest's alerts (title linked, feed, time, terms)."""
    watch = cut(clean_line(digest.watch), 100, slack_escape)
    head = f"*{count_alerts(digest)}* for watch *{watch}*"
    first = clean_title(digest.alerts[0], 200) if digest.alerts else ""
    fallback = f"[{watch}] {count_alerts(digest)}: {slack_escape(first)}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    for alert in digest.alerts[:SLACK_DIGEST_MAX]:
        entry = slack_digest_entry(alert)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": entry}})
    return {"text": fallback, "blocks": blocks}


# --- a template's output ---------------------------------------------------------------


def cut_mrkdwn(text: str, limit: int) -> str:
    """``text`` (already escaped mrkdwn) in at most ``limit`` characters, never cut inside
    a ``<link|label>`` or an ``&entity;``."""
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    if kept.rfind("<") > kept.rfind(">"):
        kept = kept[: kept.rfind("<")]
    amp = kept.rfind("&")
    if amp != -1 and ";" not in kept[amp:]:
        kept = kept[:amp]
    return kept + "…"


def slack_sections(text: str, *, sections: int = 40, total: int = 11_000) -> list[dict[str, Any]]:
    """Section blocks for a template's mrkdwn output: one per paragraph, each within
    Slack's 3,000 characters, the whole within ``total`` characters and ``sections``
    blocks (Slack refuses longer messages)."""
    blocks: list[dict[str, Any]] = []
    size = 0
    for paragraph in text.split("\n\n"):
        if not paragraph.strip():
            continue
        piece = cut_mrkdwn(paragraph.strip("\n"), 3000)
        if len(blocks) >= sections or size + len(piece) > total:
            break
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
        size += len(piece)
    return blocks


# --- the client ------------------------------------------------------------------------


class SlackNotifier:
    """Posts each alert to a Slack incoming webhook (whose URL is the credential)."""

    digest_max = SLACK_DIGEST_MAX

    def __init__(
        self,
        destination: SlackDestination,
        *,
        user_agent: str,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.name = destination.name
        self._template = (
            AlertTemplate(destination.template, "slack", destination=self.name, what="template")
            if destination.template
            else None
        )
        self._poster = JsonPoster(
            destination=self.name,
            url=destination.url.get_secret_value(),
            user_agent=user_agent,
            timeout=timeout,
            ssl_context=ssl_context,
            transport=transport,
            clock=clock,
        )

    async def send(self, alert: Alert) -> None:
        """Post the alert's Slack message."""
        await self._poster.post(encode_json(self.message(alert)), {})

    async def send_digest(self, digest: Digest) -> None:
        """Post one message listing the digest's alerts."""
        await self._poster.post(encode_json(self.digest_message(digest)), {})

    def message(self, alert: Alert) -> dict[str, Any]:
        """The built-in message, its body replaced by the user's template if there is one."""
        message = slack_message(alert)
        text = self._template.render(alert) if self._template else None
        blocks = slack_sections(text) if text else []
        return {"text": message["text"], "blocks": blocks} if blocks else message

    def digest_message(self, digest: Digest) -> dict[str, Any]:
        """The built-in digest; with a template, each alert is rendered by it."""
        message = slack_digest_message(digest)
        if self._template is None:
            return message
        blocks = [message["blocks"][0]]
        for alert in digest.alerts[: self.digest_max]:
            text = self._template.render(alert)
            own = slack_sections(text, sections=2, total=700) if text else []
            blocks += own or slack_sections(slack_digest_entry(alert))
        return {"text": message["text"], "blocks": blocks}

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._poster.aclose()
