"""Delivering alerts: one notifier per configured destination (SPEC §5).

``build_notifiers`` turns the validated destinations into ``Notifier`` objects. Each
destination type is one module, whole: its payload or message, its digest and its client
(``webhook``, ``slack``, ``email``, ``console``, ``apprise``); all of them start from the
feed text that ``notify.clean`` made safe, and report failures as ``TransientDeliveryError`` or
``PermanentDeliveryError``. ``base`` holds the ``Notifier`` protocol and what the HTTP
notifiers share; ``templates`` is the Jinja sandbox for user templates.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TextIO

import httpx

from newswatch.config.schema import (
    AppriseDestination,
    ConsoleDestination,
    Destination,
    EmailDestination,
    SlackDestination,
    WebhookDestination,
)
from newswatch.notify.apprise import AppriseNotifier
from newswatch.notify.base import Notifier
from newswatch.notify.console import ConsoleNotifier
from newswatch.notify.email import EmailNotifier
from newswatch.notify.slack import SlackNotifier
from newswatch.notify.webhook import WebhookNotifier
from newswatch.waits import parse_retry_after

__all__ = [
    "AppriseNotifier",
    "ConsoleNotifier",
    "EmailNotifier",
    "Notifier",
    "SlackNotifier",
    "WebhookNotifier",
    "build_notifiers",
    "parse_retry_after",
]


def build_notifiers(
    destinations: Iterable[Destination],
    *,
    user_agent: str,
    stdout: TextIO | None = None,
    ssl_context: ssl.SSLContext | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
    clock: Callable[[], datetime] | None = None,
) -> dict[str, Notifier]:
    """One notifier per destination, by name. ``ssl_context`` (default: the system's
    trust store for email, httpx's for HTTP) and ``http_transport`` exist for tests and
    special networks; ``timeout`` bounds each HTTP delivery as a whole (email uses the
    destination's own ``timeout``); ``clock`` is only a fallback for an HTTP-date
    ``Retry-After`` from a server that sends no ``Date``."""
    notifiers: dict[str, Notifier] = {}
    email_context = ssl_context
    for dest in destinations:
        if dest.name in notifiers:
            raise ValueError(f"two destinations are named {dest.name!r}")
        if isinstance(dest, EmailDestination) and dest.tls_ca_file is not None:
            # The user's private CA: only it is trusted (the notifier loads it).
            notifiers[dest.name] = EmailNotifier(dest)
        elif isinstance(dest, EmailDestination):
            # Loading the system trust store costs ~20 ms: once for all email destinations.
            email_context = email_context or ssl.create_default_context()
            notifiers[dest.name] = EmailNotifier(dest, ssl_context=email_context)
        elif isinstance(dest, AppriseDestination):
            notifiers[dest.name] = AppriseNotifier(dest)  # imports apprise: only then
        elif isinstance(dest, ConsoleDestination):
            notifiers[dest.name] = ConsoleNotifier(dest.name, stdout, template=dest.template)
        else:
            notifiers[dest.name] = _http_notifier(
                dest,
                user_agent=user_agent,
                timeout=timeout,
                ssl_context=ssl_context,
                transport=http_transport,
                clock=clock,
            )
    return notifiers


def _http_notifier(
    dest: SlackDestination | WebhookDestination,
    *,
    user_agent: str,
    timeout: float,
    ssl_context: ssl.SSLContext | None,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> Notifier:
    """A Slack or webhook notifier: both POST JSON under the same rules."""
    if isinstance(dest, SlackDestination):
        return SlackNotifier(
            dest,
            user_agent=user_agent,
            timeout=timeout,
            ssl_context=ssl_context,
            transport=transport,
            clock=clock,
        )
    return WebhookNotifier(
        dest,
        user_agent=user_agent,
        timeout=timeout,
        ssl_context=ssl_context,
        transport=transport,
        clock=clock,
    )
