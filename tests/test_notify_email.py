"""Email: the mail built for an alert (headers, text and HTML parts, feed text made safe),
and delivery over a real loopback SMTP server (aiosmtpd): TLS modes, AUTH, outcomes."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from newswatch.config import EmailDestination
from newswatch.errors import PermanentDeliveryError, TransientDeliveryError
from newswatch.models import Sighting
from newswatch.notify import EmailNotifier
from newswatch.notify.email import email_message
from support.alerts import deliver, destination, make_alert
from support.receivers import Certificates, SmtpServer, free_port, make_certificates

USERS = {"newswatch": "correct horse"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A test CA and a certificate for 127.0.0.1, made once for this module."""
    return make_certificates(Path(tmp_path_factory.mktemp("certs")))


def notifier(port: int, certs: Certificates | None = None, **fields: Any) -> EmailNotifier:
    """An email notifier for the loopback server on ``port``."""
    settings: dict[str, Any] = {
        "name": "analysts",
        "type": "email",
        "to": ["analyst@example.org"],
        "from": "newswatch@example.org",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "timeout": "5s",
        **fields,
    }
    context = certs.client_context() if certs else None
    dest = destination(**settings)
    assert isinstance(dest, EmailDestination)
    return EmailNotifier(dest, ssl_context=context)


def reparse(msg: EmailMessage) -> EmailMessage:
    """``msg`` as a receiving client would see it after transmission."""
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_plain_smtp_delivers_to_the_configured_envelope() -> None:
    """With security none the mail arrives with the configured sender and recipients."""
    with SmtpServer() as server:
        deliver(notifier(server.port, to=["a@example.org", "b@example.org"]), make_alert())
    (mail,) = server.messages
    assert mail.mail_from == "newswatch@example.org"
    assert mail.rcpt_tos == ["a@example.org", "b@example.org"]
    assert mail.message["Subject"] == "[newswatch] belarus: Lukashenko claims victory in Belarus"


def test_starttls_with_auth_logs_in_over_tls(certs: Certificates) -> None:
    """STARTTLS upgrades the session before AUTH, and the mail is accepted."""
    with SmtpServer(users=USERS, starttls=certs.server_context()) as server:
        mailer = notifier(
            server.port, certs, security="starttls", username="newswatch", password="correct horse"
        )
        deliver(mailer, make_alert())
    (mail,) = server.messages
    assert (mail.login, mail.tls) == ("newswatch", True)


def test_implicit_tls_delivers(certs: Certificates) -> None:
    """security ssl speaks TLS from the first byte."""
    with SmtpServer(implicit_tls=certs.server_context()) as server:
        deliver(notifier(server.port, certs, security="ssl"), make_alert())
    assert [m.tls for m in server.messages] == [True]


def test_auth_without_tls_when_the_server_allows_it() -> None:
    """security none with credentials logs in when the server offers plain AUTH."""
    with SmtpServer(users=USERS, auth_require_tls=False) as server:
        mailer = notifier(server.port, username="newswatch", password="correct horse")
        deliver(mailer, make_alert())
    assert [m.login for m in server.messages] == ["newswatch"]


def test_untrusted_certificate_is_refused(certs: Certificates) -> None:
    """A server certificate the client's CAs do not vouch for stops the send."""
    with SmtpServer(starttls=certs.server_context()) as server:
        mailer = notifier(server.port, security="starttls")  # default trust store only
        with pytest.raises(TransientDeliveryError, match="certificate verify failed"):
            deliver(mailer, make_alert())
    assert server.messages == []


def test_starttls_not_offered_is_permanent() -> None:
    """security starttls never falls back to plain text when the server lacks STARTTLS."""
    with SmtpServer() as server, pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        deliver(notifier(server.port, security="starttls"), make_alert())
    assert server.messages == []


def test_wrong_password_is_permanent(certs: Certificates) -> None:
    """A 535 authentication failure will not cure itself by retrying."""
    with SmtpServer(users=USERS, starttls=certs.server_context()) as server:
        mailer = notifier(
            server.port, certs, security="starttls", username="newswatch", password="wrong"
        )
        with pytest.raises(PermanentDeliveryError, match="535"):
            deliver(mailer, make_alert())


def test_auth_hidden_until_tls_is_permanent() -> None:
    """Credentials over a plain session that the server refuses to authenticate: permanent."""
    with SmtpServer(users=USERS, auth_require_tls=True) as server:
        mailer = notifier(server.port, username="newswatch", password="correct horse")
        with pytest.raises(PermanentDeliveryError, match="AUTH"):
            deliver(mailer, make_alert())


def test_password_never_appears_in_the_error(certs: Certificates) -> None:
    """A failed login's error text does not repeat the password."""
    with SmtpServer(users=USERS, starttls=certs.server_context()) as server:
        mailer = notifier(
            server.port, certs, security="starttls", username="newswatch", password="hunter2-pw"
        )
        with pytest.raises(PermanentDeliveryError) as caught:
            deliver(mailer, make_alert())
    assert "hunter2-pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("451 4.3.0 Try again later", TransientDeliveryError),
        ("421 4.3.2 Shutting down", TransientDeliveryError),
        ("554 5.7.1 Message rejected", PermanentDeliveryError),
        ("552 5.3.4 Message too big", PermanentDeliveryError),
    ],
)
def test_data_reply_classification(reply: str, error: type[Exception]) -> None:
    """A 4xx answer to DATA is transient, a 5xx one permanent."""
    with SmtpServer() as server:
        server.script(reply)
        with pytest.raises(error, match=reply[:3]):
            deliver(notifier(server.port), make_alert())


def test_transient_4xx_then_accepted_on_retry() -> None:
    """After a 451 the next attempt of the same alert is accepted."""
    alert = make_alert()
    with SmtpServer() as server:
        server.script("451 4.3.0 Try again later")
        with pytest.raises(TransientDeliveryError):
            deliver(notifier(server.port), alert)
        deliver(notifier(server.port), alert)
    assert len(server.messages) == 1


def test_every_recipient_refused_permanently() -> None:
    """5xx for every recipient is a permanent error naming them."""
    refuse = {"analyst@example.org": "550 5.1.1 No such user"}
    with (
        SmtpServer(refuse=refuse) as server,
        pytest.raises(PermanentDeliveryError, match=r"analyst@example\.org"),
    ):
        deliver(notifier(server.port), make_alert())


def test_recipient_greylisted_is_transient() -> None:
    """A 450 refusal of the only recipient is worth retrying."""
    refuse = {"analyst@example.org": "450 4.2.0 Greylisted"}
    with SmtpServer(refuse=refuse) as server, pytest.raises(TransientDeliveryError, match="450"):
        deliver(notifier(server.port), make_alert())


def test_some_recipients_refused_still_counts_as_sent() -> None:
    """When one recipient is refused the others got it: no retry that would duplicate."""
    with SmtpServer(refuse={"gone@example.org": "550 5.1.1 No such user"}) as server:
        deliver(notifier(server.port, to=["gone@example.org", "ok@example.org"]), make_alert())
    assert [m.rcpt_tos for m in server.messages] == [["ok@example.org"]]


def test_connection_refused_is_transient() -> None:
    """Nobody listening is a transient failure."""
    with pytest.raises(TransientDeliveryError, match=r"cannot talk to 127\.0\.0\.1"):
        deliver(notifier(free_port()), make_alert())


def test_crlf_in_title_never_becomes_a_header() -> None:
    """A title carrying CR/LF + Bcc: arrives as one subject line, with no Bcc recipient."""
    title = "Leak\r\nBcc: victim@evil.example\r\nX-Injected: 1"
    with SmtpServer() as server:
        deliver(notifier(server.port), make_alert(title=title))
    (mail,) = server.messages
    assert mail.rcpt_tos == ["analyst@example.org"]
    assert mail.message["Bcc"] is None and mail.message["X-Injected"] is None
    assert mail.message["Subject"] == (
        "[newswatch] belarus: Leak Bcc: victim@evil.example X-Injected: 1"
    )


def test_html_part_escapes_script_and_drops_javascript_links() -> None:
    """Feed markup arrives escaped, and a javascript: link is not a link anywhere."""
    alert = make_alert(title="<script>alert(1)</script>", link="javascript:alert(document.cookie)")
    with SmtpServer() as server:
        deliver(notifier(server.port), alert)
    message = server.messages[0].message
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html = html_part.get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html and "javascript:" not in text_part.get_content()


def test_message_id_and_non_ascii_subject_arrive() -> None:
    """The Message-ID comes from the alert id and a Cyrillic title survives the trip."""
    alert = make_alert(id="al_42", title="Лукашенко объявил о победе")
    with SmtpServer() as server:
        deliver(notifier(server.port), alert)
    message = server.messages[0].message
    assert message["Message-ID"] == "<al_42@newswatch>"
    assert message["Subject"] == "[newswatch] belarus: Лукашенко объявил о победе"


def test_email_is_multipart_alternative_with_headers() -> None:
    """Subject, Message-ID, Auto-Submitted, List-Id and a text + HTML body."""
    msg = email_message(make_alert(), "newswatch@example.org", ["a@example.org"])
    assert msg["Subject"] == "[newswatch] belarus: Lukashenko claims victory in Belarus"
    assert msg["Message-ID"] == "<al_9f8e7d6c5b4a@newswatch>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Id"] == "newswatch belarus <belarus.newswatch>"
    assert msg["In-Reply-To"] is None
    assert msg.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]


def test_email_threads_on_the_first_alert_of_a_story() -> None:
    """thread_id becomes In-Reply-To and References."""
    msg = email_message(make_alert(thread_id="al_first"), "n@example.org", ["a@example.org"])
    assert msg["In-Reply-To"] == msg["References"] == "<al_first@newswatch>"


def test_email_message_id_from_an_awkward_alert_id_is_stable() -> None:
    """An id with characters a Message-ID cannot hold is hashed, the same way every time."""
    first = email_message(make_alert(id="a b<c>@d"), "n@example.org", ["a@example.org"])
    again = email_message(make_alert(id="a b<c>@d"), "n@example.org", ["a@example.org"])
    assert first["Message-ID"] == again["Message-ID"]
    assert re.fullmatch(r"<[0-9a-f]{40}@newswatch>", first["Message-ID"])


def test_email_subject_loses_crlf_and_is_shortened() -> None:
    """CR/LF and other controls leave the subject; a long one is cut to 150 characters."""
    alert = make_alert(title="A\r\nBcc: x@evil.example\x00\x1b[31m" + "z" * 400)
    msg = reparse(email_message(alert, "n@example.org", ["a@example.org"]))
    assert msg["Bcc"] is None
    subject = str(msg["Subject"])
    assert subject.startswith("[newswatch] belarus: A Bcc: x@evil.example [31mzzz")
    assert len(subject) == 150 and subject.endswith("…")


def test_email_html_escapes_feed_text_and_marks_the_hit() -> None:
    """<script> arrives as text; the first hit is in <mark>."""
    msg = email_message(make_alert(summary="<script>alert(1)</script>"), "n@x.org", ["a@x.org"])
    html_part = msg.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Alexander <mark>Lukashenko</mark> a seventh" in html


def test_email_never_links_javascript() -> None:
    """A javascript: link appears in neither part, and no href is made for it."""
    alert = make_alert(
        link="javascript:alert(1)", also=(Sighting("x", "javascript:y", make_alert().feed),)
    )
    msg = email_message(alert, "n@example.org", ["a@example.org"])
    raw = msg.as_string()
    assert "javascript" not in raw
    assert "href" not in raw.split("Also reported by")[1].split("</ul>")[0]
