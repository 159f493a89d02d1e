"""Email through the outbox against a real aiosmtpd server: STARTTLS with AUTH, a server
that answers 4xx before 250, and digests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from newswatch.models import DeliveryState
from newswatch.pipeline.deliver import deliver_all
from support.outbox import Clock, make_settings, runtime, seed, states
from support.receivers import Certificates, SmtpServer, make_certificates

USERS = {"newswatch": "correct horse"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A test CA and a certificate for 127.0.0.1, made once for this module."""
    return make_certificates(Path(tmp_path_factory.mktemp("certs")))


def mail_destination(port: int, extra: str = "") -> str:
    return (
        "- {name: mail, type: email, to: [analyst@example.org], from: nw@example.org, "
        f"host: 127.0.0.1, port: {port}, security: starttls, username: newswatch, "
        f"password: 'correct horse', timeout: 5s{extra}}}"
    )


def test_starttls_auth_server_answering_4xx_then_250(tmp_path: Path, certs: Certificates) -> None:
    """Over STARTTLS with a login, a 451 leaves the alert pending (the destination paused);
    the next attempt is accepted: exactly one mail, with the alert's Message-ID."""
    with SmtpServer(users=USERS, starttls=certs.server_context()) as smtp:
        smtp.script("451 4.3.0 Try again later")
        settings = make_settings(tmp_path, mail_destination(smtp.port))
        clock = Clock()
        (alert_id,) = seed(settings, 1, now=clock())

        async def run() -> None:
            async with runtime(settings, clock, ssl_context=certs.client_context()) as rt:
                await deliver_all(rt)
                assert states(settings) == {"mail": [DeliveryState.PENDING]}
                await deliver_all(rt)  # still paused: nothing is tried
                clock.advance(60)
                await deliver_all(rt)

        asyncio.run(run())
    (mail,) = smtp.messages
    assert mail.tls and mail.login == "newswatch"
    assert mail.message["Message-ID"] == f"<{alert_id}@newswatch>"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert states(settings) == {"mail": [DeliveryState.SENT]}


def test_burst_of_mail_becomes_one_digest_mail(tmp_path: Path, certs: Certificates) -> None:
    """Fifteen alerts waiting for email (burst 10 by default) arrive as one digest mail
    listing them all."""
    with SmtpServer(users=USERS, starttls=certs.server_context()) as smtp:
        settings = make_settings(tmp_path, mail_destination(smtp.port))
        seed(settings, 15)

        async def run() -> None:
            async with runtime(settings, ssl_context=certs.client_context()) as rt:
                await deliver_all(rt)

        asyncio.run(run())
    (mail,) = smtp.messages
    subject = mail.message["Subject"]
    assert subject.startswith("[newswatch] belarus: 15 alerts — Lukashenko speaks")
    text = mail.message.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert all(f"Lukashenko speaks ({n})" in body for n in range(15))
    assert mail.message["Message-ID"].startswith("<digest-")
