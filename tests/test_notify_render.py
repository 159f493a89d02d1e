"""Rendering alerts: the SPEC §5 payload, and feed text made safe for every medium."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from newswatch.models import Sighting
from newswatch.notify import parse_retry_after
from newswatch.notify.console import console_text
from newswatch.notify.render import email_message
from support.alerts import make_alert


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


def reparse(msg: EmailMessage) -> EmailMessage:
    """``msg`` as a receiving client would see it after transmission."""
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


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


def test_huge_text_is_bounded_in_email_and_console_with_the_hit_kept() -> None:
    """A megabyte title or snippet is cut in every body; the first hit stays marked."""
    huge = "x " * 500_000
    alert = make_alert(title=huge, snippet=huge + "Lukashenko " + huge)
    console = console_text(alert)
    assert len(console) < 3000 and "**Lukashenko**" in console
    msg = email_message(alert, "n@example.org", ["a@example.org"])
    html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
    assert html_part is not None and text_part is not None
    assert (
        len(html_part.get_content()) < 6000 and "<mark>Lukashenko</mark>" in html_part.get_content()
    )
    assert len(text_part.get_content()) < 6000 and "**Lukashenko**" in text_part.get_content()


@pytest.mark.parametrize(
    ("value", "reference", "seconds"),
    [
        ("120", None, 120.0),
        ("0", None, 0.0),
        (" 30 ", None, 30.0),
        ("1.5", None, 1.5),
        ("99999999", None, 21600.0),
        ("-5", None, None),
        ("soon", None, None),
        ("", None, None),
        (None, None, None),
        ("Wed, 21 Oct 2026 07:30:00 GMT", datetime(2026, 10, 21, 7, 28, tzinfo=UTC), 120.0),
        ("Wed, 21 Oct 2026 07:30:00 GMT", datetime(2026, 10, 21, 8, 0, tzinfo=UTC), 0.0),
        ("Wed, 21 Oct 2026 07:30:00 GMT", datetime(2026, 10, 1, 0, 0, tzinfo=UTC), 21600.0),
        ("Wed, 21 Oct 2026 07:30:00 GMT", None, None),
    ],
)
def test_parse_retry_after(
    value: str | None, reference: datetime | None, seconds: float | None
) -> None:
    """Delay-seconds or HTTP-date (from a reference time), clamped to [0, 6 h]."""
    assert parse_retry_after(value, reference=reference) == seconds
