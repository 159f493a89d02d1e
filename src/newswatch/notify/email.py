"""Email destination: one ``multipart/alternative`` mail per alert over SMTP.

smtplib is blocking, so each send runs in a worker thread. TLS is never silently dropped:
``starttls`` fails when the server does not offer STARTTLS, ``ssl`` is TLS from the first
byte, ``none`` is plain text (for a relay on localhost). Outcomes: 250 accepted; 4xx,
dropped connections and timeouts transient; 5xx, refused recipients and missing server
features permanent.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage

from newswatch.config.schema import EmailDestination
from newswatch.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from newswatch.models import Alert, Digest
from newswatch.notify.clean import clean_line, cut
from newswatch.notify.digest import EMAIL_DIGEST_MAX, email_digest_message
from newswatch.notify.mailhead import UnsafeMailError
from newswatch.notify.render import email_message
from newswatch.notify.templates import AlertTemplate, Medium

log = logging.getLogger(__name__)


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
        except UnsafeMailError as exc:
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
