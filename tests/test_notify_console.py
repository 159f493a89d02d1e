"""Console delivery: one block per alert on a text stream."""

from __future__ import annotations

import io

import pytest

from newswatch.errors import PermanentDeliveryError
from newswatch.notify import ConsoleNotifier
from newswatch.notify.render import console_text
from support.alerts import deliver, make_alert


def test_writes_one_block_per_alert_separated_by_a_blank_line() -> None:
    """Each alert is its block followed by a blank line."""
    out = io.StringIO()
    first, second = make_alert(id="a1"), make_alert(id="a2", title="Second story")
    deliver(ConsoleNotifier("terminal", out), first, second)
    assert out.getvalue() == f"{console_text(first)}\n\n{console_text(second)}\n\n"


def test_default_stream_is_stdout_at_send_time(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a stream the block goes to whatever sys.stdout is when sending."""
    deliver(ConsoleNotifier("terminal"), make_alert())
    assert capsys.readouterr().out.startswith("[belarus] Lukashenko claims victory")


def test_closed_stream_is_permanent() -> None:
    """A closed stream will never take the alert."""
    out = io.StringIO()
    out.close()
    with pytest.raises(PermanentDeliveryError):
        deliver(ConsoleNotifier("terminal", out), make_alert())


def test_ascii_stream_gets_replacement_characters() -> None:
    """A Cyrillic headline on an ASCII-only stream is printed with '?' instead of failing."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    deliver(ConsoleNotifier("terminal", out), make_alert(title="Лукашенко"))
    assert raw.getvalue().startswith(b"[belarus] ?????????\n")
