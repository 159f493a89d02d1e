"""Console destination: one readable block per alert on standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from newswatch.errors import PermanentDeliveryError, TransientDeliveryError
from newswatch.models import Alert, Digest
from newswatch.notify.digest import CONSOLE_DIGEST_MAX, console_digest_text
from newswatch.notify.render import console_text
from newswatch.notify.templates import AlertTemplate


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
