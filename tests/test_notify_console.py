"""Console: a readable block that no feed can turn into terminal escapes, one per alert on
a text stream."""

from __future__ import annotations

import io

import pytest

from newswatch.errors import PermanentDeliveryError
from newswatch.notify import ConsoleNotifier
from newswatch.notify.console import console_text
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


def test_console_block_is_readable() -> None:
    """Watch, title, feed, time, link, matched terms grouped by term, marked snippet."""
    assert console_text(make_alert()) == "\n".join([
        "[belarus] Lukashenko claims victory in Belarus",
        "  feed:    Example World · 2026-11-24 10:00 UTC",
        "  link:    https://news.example.org/2026/11/24/lukashenko-victory?id=1&lang=en",
        "  matched: Lukashenko (title, summary), Belarus (title)",
        "  …results give Alexander **Lukashenko** a seventh term…",
        "  also:    Lukashenko wins again — Other News <https://other.example.net/story/42>",
    ])  # fmt: skip


def test_console_strips_terminal_escapes_and_bidi_overrides() -> None:
    """An ANSI escape or a right-to-left override in a title cannot reach the terminal."""
    text = console_text(
        make_alert(title="\x1b]0;pwned\x07\x1b[2JHi\u202eevil", link="javascript:x")
    )
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "javascript" not in text
    assert text.splitlines()[0] == "[belarus] ]0;pwned [2JHi evil"
