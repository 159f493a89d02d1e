"""Slack destination: one incoming-webhook message per alert.

Slack answers 200 ``ok`` when it took the message; 400 ``invalid_payload``, 403, 404
``no_service``/``channel_not_found`` and 410 ``channel_is_archived`` cannot be cured by
retrying (permanent); 429 comes with a ``Retry-After`` (transient).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime

import httpx

from newswatch.config.schema import SlackDestination
from newswatch.models import Alert
from newswatch.notify.base import JsonPoster
from newswatch.notify.render import slack_message
from newswatch.notify.webhook import encode_json


class SlackNotifier:
    """Posts each alert to a Slack incoming webhook (whose URL is the credential)."""

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
        await self._poster.post(encode_json(slack_message(alert)), {})

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._poster.aclose()
