"""Console destination: one readable block per alert (or digest) on standard output.

The text comes from ``notify.clean``'s cleaned values, so no escape sequence or bidi
override from a feed can reach the terminal or the journal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from newswatch.errors import PermanentDeliveryError, TransientDeliveryError
from newswatch.models import Alert, Digest
from newswatch.notify.clean import (
    MAX_ALSO,
    TITLE_MAX,
    clean_line,
    count_alerts,
    cut,
    human_time,
    matched_terms,
    plain_sighting,
    plain_snippet,
    safe_link,
)
from newswatch.notify.templates import AlertTemplate

CONSOLE_DIGEST_MAX = 100


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
    for sighting in alert.also[:MAX_ALSO]:
        lines.append(f"  also:    {plain_sighting(sighting.title, sighting.url, sighting.feed)}")
    return "\n".join(lines)


def console_digest_text(digest: Digest, render: Callable[[Alert], str]) -> str:
    """A header line, then each alert's own console block (``render``) indented."""
    blocks = [f"[{clean_line(digest.watch)}] digest: {count_alerts(digest)}"]
    for alert in digest.alerts:
        blocks.append("\n".join(f"  {line}" for line in render(alert).splitlines()))
    return "\n".join(blocks)


class ConsoleNotifier:
    """Writes each alert to a text stream (standard output unless told otherwise)."""

    digest_max = CONSOLE_DIGEST_MAX

    def __init__(
        self, name: str, stream: TextIO | None = None, *, template: str | None = None
    ) -> None:
        self.name = name
        self._stream = stream
        self._template = (
            AlertTemplate(template, "text", destination=name, what="template") if template else None
        )

    def text(self, alert: Alert) -> str:
        """The alert's block: the user's template if it renders, else the built-in one."""
        rendered = self._template.render(alert) if self._template else None
        return rendered.rstrip("\n") if rendered else console_text(alert)

    async def send(self, alert: Alert) -> None:
        """Write and flush the alert's block, followed by a blank line."""
        self._write(self.text(alert))

    async def send_digest(self, digest: Digest) -> None:
        """Write one block listing the digest's alerts."""
        self._write(console_digest_text(digest, self.text))

    def _write(self, block: str) -> None:
        # Looked up at send time so a redirected sys.stdout is honoured.
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(_encodable(block + "\n\n", stream))
            stream.flush()
        except ValueError as exc:  # the stream was closed: nothing will reopen it
            raise PermanentDeliveryError(f"output closed: {exc}", destination=self.name) from exc
        except OSError as exc:  # e.g. a full disk or a reader that went away
            raise TransientDeliveryError(f"cannot write: {exc}", destination=self.name) from exc

    async def aclose(self) -> None:
        """Nothing to release: the stream belongs to the caller."""


def _encodable(text: str, stream: TextIO) -> str:
    """``text`` with what the stream's encoding cannot carry replaced (an ASCII terminal
    must not turn a Cyrillic headline into a failed delivery)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return text.encode(encoding, "replace").decode(encoding)
    except LookupError:
        return text
