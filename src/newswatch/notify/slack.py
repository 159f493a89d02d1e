"""Slack destination: one incoming-webhook message per alert.

Slack answers 200 ``ok`` when it took the message; 400 ``invalid_payload``, 403, 404
``no_service``/``channel_not_found`` and 410 ``channel_is_archived`` cannot be cured by
retrying (permanent); 429 comes with a ``Retry-After`` (transient).
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
from newswatch.notify.digest import SLACK_DIGEST_MAX, slack_digest_entry, slack_digest_message
from newswatch.notify.render import slack_message
from newswatch.notify.templates import AlertTemplate, slack_sections


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
