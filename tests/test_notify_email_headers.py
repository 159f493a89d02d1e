"""Mail that no feed can forge: hostile titles through every email path, delivered to a real
loopback SMTP server (aiosmtpd) and parsed back from the bytes that arrived.

The regression is pinned to what goes over the wire, not to the interpreter version: on a
CPython before 3.11.10 / 3.12.5 (CVE-2024-6923) the email package itself would write a
decoded CR/LF raw, so these tests fail there if newswatch ever hands a feed's text to it.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.config import EmailDestination
from newswatch.errors import PermanentDeliveryError
from newswatch.models import Digest
from newswatch.notify import EmailNotifier, mailhead
from newswatch.notify.email import email_message
from support.alerts import deliver, destination, make_alert
from support.receivers import Certificates, ReceivedMail, SmtpServer, make_certificates

Q_INJECTION = (
    "=?utf-8?q?Belarus_update=0D=0AReply-To=3A_attacker=40evil=2Etest=0D=0AX-Injected=3A_yes?="
)
B_INJECTION = (
    "=?utf-8?b?"
    + base64.b64encode(
        b"Belarus\r\nX-Injected: yes\r\n\r\nURGENT: your account is locked, log in at evil.test"
    ).decode()
    + "?="
)
BIDI_TITLE = "Belarus \u202egnp.exe\u202c leak \u200fnote\u2066x\u2069 and CR\rLF\n end"
HOSTILE_TITLES = [Q_INJECTION, B_INJECTION, BIDI_TITLE, "=?", "?= =?x?q?a?= plain"]
OUR_HEADERS = [
    "subject", "from", "to", "date", "message-id",
    "auto-submitted", "list-id", "mime-version", "content-type",
]  # fmt: skip
THREAD_HEADERS = ["in-reply-to", "references"]


def notifier(port: int, **fields: Any) -> EmailNotifier:
    """A plain-SMTP email notifier for the loopback server on ``port``."""
    settings: dict[str, Any] = {
        "name": "analysts", "type": "email", "to": ["analyst@example.org"],
        "from": "newswatch@example.org", "host": "127.0.0.1", "port": port,
        "security": "none", "timeout": "5s", **fields,
    }  # fmt: skip
    dest = destination(**settings)
    assert isinstance(dest, EmailDestination)
    return EmailNotifier(dest)


def header_names(mail: ReceivedMail) -> list[str]:
    """The top-level header names of the mail as it arrived, in order, lower-cased."""
    return [name.lower() for name in mail.message]


def assert_intact(mail: ReceivedMail, *, thread: bool = False) -> EmailMessage:
    """The mail carries exactly our headers, one From, a one-line subject with no controls,
    and a multipart/alternative body whose parts are ours."""
    expected = OUR_HEADERS[:5] + (THREAD_HEADERS if thread else []) + OUR_HEADERS[5:]
    assert header_names(mail) == expected
    message = mail.message
    assert message.get_all("From") == ["newswatch <newswatch@example.org>"]
    subject = str(message["Subject"])
    assert subject.startswith("[newswatch] ")
    assert not re.search(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", subject)
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    return message


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_title_in_a_single_alert_stays_literal(title: str) -> None:
    """A title that looks like an encoded-word, or carries bidi controls, adds no header and
    reads back as the literal text it was (controls removed)."""
    with SmtpServer() as server:
        deliver(notifier(server.port), make_alert(title=title))
    (mail,) = server.messages
    message = assert_intact(mail)
    shown = " ".join(re.sub(r"[\r\n\u200e\u200f\u202a-\u202e\u2066-\u2069]", " ", title).split())
    assert str(message["Subject"]) == f"[newswatch] belarus: {shown}"
    assert b"X-Injected" not in mail.data.split(b"\r\n\r\n")[0]
    assert b"Reply-To" not in mail.data.split(b"\r\n\r\n")[0]


def test_base64_injection_cannot_start_the_body() -> None:
    """The body begins with our MIME parts, not with the feed's "URGENT" text."""
    with SmtpServer() as server:
        deliver(notifier(server.port), make_alert(title=B_INJECTION))
    (mail,) = server.messages
    message = assert_intact(mail)
    text = message.get_body(("plain",))
    assert text is not None
    assert text.get_content().startswith(B_INJECTION)  # the title, literally, first line
    head, _, _ = mail.data.partition(b"\r\n\r\n")
    assert b"URGENT" not in head


def test_hostile_subject_template_stays_one_literal_line() -> None:
    """A subject_template that puts the raw title first is still one literal line."""
    with SmtpServer() as server:
        mailer = notifier(server.port, subject_template="{{ alert.title }} [newswatch] x")
        deliver(mailer, make_alert(title=Q_INJECTION))
    (mail,) = server.messages
    assert header_names(mail) == OUR_HEADERS
    assert str(mail.message["Subject"]) == f"{Q_INJECTION} [newswatch] x"


def test_hostile_titles_in_a_digest() -> None:
    """A digest whose first title is hostile has our headers only and literal subject."""
    alerts = tuple(
        replace(make_alert(title=title), id=f"al_{n}") for n, title in enumerate(HOSTILE_TITLES)
    )
    digest = Digest("digest-1", "belarus", alerts, datetime(2026, 11, 24, 10, tzinfo=UTC))
    with SmtpServer() as server:
        asyncio.run(notifier(server.port).send_digest(digest))
    (mail,) = server.messages
    message = assert_intact(mail)
    assert str(message["Subject"]) == f"[newswatch] belarus: 5 alerts — {Q_INJECTION}"[:150]


def test_hostile_title_in_a_threaded_reply() -> None:
    """A follow-up on a story (In-Reply-To, References) keeps exactly our headers too."""
    alert = replace(make_alert(title=B_INJECTION), thread_id="al_first")
    with SmtpServer() as server:
        deliver(notifier(server.port), alert)
    (mail,) = server.messages
    message = assert_intact(mail, thread=True)
    assert message["In-Reply-To"] == "<al_first@newswatch>"


def test_encoded_subject_words_and_body_lines_follow_the_rfcs() -> None:
    """Encoded-words are at most 75 characters, folded lines at most 76, and no
    quoted-printable body line is longer than 76 characters (RFC 2045)."""
    title = "Беларусь: " + "очень длинный заголовок статьи " * 12
    long_text = "word " * 400
    alert = make_alert(title=title, summary=long_text)
    with SmtpServer() as server:
        deliver(notifier(server.port), alert)
    (mail,) = server.messages
    head, _, body = mail.data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    subject_at = next(i for i, line in enumerate(lines) if line.startswith(b"Subject:"))
    subject_lines = [lines[subject_at]]
    subject_lines += [line for line in lines[subject_at + 1 :] if line.startswith(b" ")][:20]
    assert len(subject_lines) > 1
    for line in subject_lines:
        assert len(line) <= 76
        for word in re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", line):
            assert len(word) <= 75
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert str(mail.message["Subject"]).startswith("[newswatch] belarus: Беларусь: очень")


def test_plain_long_subject_folds_after_the_first_word() -> None:
    """A long ASCII subject folds at spaces, never right after ``Subject:``, and reads back
    as the same one line."""
    title = "Lukashenko " + "announces new measures " * 4  # 124 characters: not cut
    msg = email_message(make_alert(title=title), "nw@example.org", ["a@example.org"])
    raw = msg.as_bytes(policy=mailhead.MAIL_POLICY.clone(linesep="\r\n"))
    first = next(line for line in raw.split(b"\r\n") if line.startswith(b"Subject:"))
    assert first.startswith(b"Subject: [newswatch] belarus: Lukashenko")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(parsed["Subject"]) == " ".join(f"[newswatch] belarus: {title}".split())


def test_a_message_that_would_not_read_back_is_refused() -> None:
    """verify() refuses a message whose headers differ from what was written."""
    msg = EmailMessage(policy=mailhead.MAIL_POLICY)
    msg.set_raw("Subject", "hello\r\nX-Injected: yes")
    msg.set_content("body\n")
    with pytest.raises(mailhead.UnsafeMailError, match="headers read back"):
        mailhead.verify(msg, [("Subject", "hello")], ["body\n"])


def test_a_header_value_with_a_line_break_is_refused() -> None:
    """header_value() never writes a value that spans lines."""
    with pytest.raises(mailhead.UnsafeMailError, match="one line"):
        mailhead.header_value("Subject", "a\r\nBcc: x@evil.test")


def test_unsafe_mail_is_a_permanent_failure_not_a_send() -> None:
    """A message that cannot be built safely is a permanent delivery error; nothing is sent."""
    with SmtpServer() as server:
        mailer = notifier(server.port)
        sender = "newswatch@example.org"
        # a sender address with a line break can only come from a broken settings object
        mailer._dest = mailer._dest.model_copy(update={"sender": f"{sender}\r\nBcc: x@evil.test"})
        with pytest.raises(PermanentDeliveryError, match="unsafe mail not sent"):
            deliver(mailer, make_alert())
    assert server.messages == []


PIECES = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=8),
    st.sampled_from(["=?", "?=", "=0D=0A", "\r\n", "\r", "\n", "?q?", "?b?", ":", "utf-8"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join))
def test_any_title_leaves_exactly_our_headers(title: str) -> None:
    """For any feed title, the parsed message's header names are exactly the set we wrote."""
    msg = email_message(make_alert(title=title), "nw@example.org", ["a@example.org"])
    raw = msg.as_bytes(policy=mailhead.MAIL_POLICY.clone(linesep="\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert [name.lower() for name in parsed] == OUR_HEADERS
    subject = str(parsed["Subject"])
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("[newswatch] belarus: ")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A test CA and a certificate for 127.0.0.1, made once for this module."""
    return make_certificates(Path(tmp_path_factory.mktemp("certs")))


def test_tls_ca_file_trusts_a_private_ca(certs: Certificates) -> None:
    """With tls_ca_file, STARTTLS to a server signed by a private CA works, with no
    SSL_CERT_FILE and no ssl_context given by the caller."""
    with SmtpServer(starttls=certs.server_context()) as server:
        deliver(
            notifier(server.port, security="starttls", tls_ca_file=str(certs.ca_file)),
            make_alert(),
        )
    (mail,) = server.messages
    assert mail.tls
