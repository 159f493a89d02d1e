"""The sd_notify protocol against real AF_UNIX datagram sockets."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from newswatch.app.sdnotify import MAX_DATAGRAM, SystemdNotifier, socket_address, watchdog_interval

# A guard against a hanging send, not a performance threshold: a blocking send never returns.
HANG_GUARD_S = 30


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket bound in tmp_path, standing in for systemd, and its path."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


@pytest.fixture
def notifier(receiver: tuple[socket.socket, str]) -> Iterator[SystemdNotifier]:
    """A notifier pointed at the receiver."""
    with SystemdNotifier(receiver[1]) as n:
        yield n


def received(receiver: tuple[socket.socket, str]) -> bytes:
    """The next datagram the receiver got."""
    return receiver[0].recv(65536)


def test_ready_sends_ready(notifier: SystemdNotifier, receiver: tuple[socket.socket, str]) -> None:
    """ready() sends exactly READY=1."""
    notifier.ready()
    assert received(receiver) == b"READY=1"


def test_ready_with_status(notifier: SystemdNotifier, receiver: tuple[socket.socket, str]) -> None:
    """ready(status) sends READY=1 and STATUS in one datagram."""
    notifier.ready("polling 12 feeds")
    assert received(receiver) == b"READY=1\nSTATUS=polling 12 feeds"


def test_reloading(notifier: SystemdNotifier, receiver: tuple[socket.socket, str]) -> None:
    """reloading() sends RELOADING=1 with the monotonic timestamp."""
    notifier.reloading(123456789)
    assert received(receiver) == b"RELOADING=1\nMONOTONIC_USEC=123456789"


def test_status(notifier: SystemdNotifier, receiver: tuple[socket.socket, str]) -> None:
    """status() sends STATUS=text, UTF-8 encoded."""
    notifier.status("12 feeds, 3 alerts — Беларусь")
    assert received(receiver) == "STATUS=12 feeds, 3 alerts — Беларусь".encode()


def test_watchdog(notifier: SystemdNotifier, receiver: tuple[socket.socket, str]) -> None:
    """watchdog() sends WATCHDOG=1."""
    notifier.watchdog()
    assert received(receiver) == b"WATCHDOG=1"


def test_stopping(notifier: SystemdNotifier, receiver: tuple[socket.socket, str]) -> None:
    """stopping() sends STOPPING=1."""
    notifier.stopping()
    assert received(receiver) == b"STOPPING=1"


def test_status_newlines_cannot_inject(
    notifier: SystemdNotifier, receiver: tuple[socket.socket, str]
) -> None:
    """Line breaks and NUL in status text become spaces, so no extra assignment appears."""
    notifier.status("feed down\nREADY=1\r\nSTOPPING=1\0x")
    assert received(receiver) == b"STATUS=feed down READY=1  STOPPING=1 x"


def test_long_status_fits_one_datagram(
    notifier: SystemdNotifier, receiver: tuple[socket.socket, str]
) -> None:
    """A huge status is cut so the datagram stays within systemd's limit, on a char boundary."""
    notifier.status("ж" * 10_000)
    data = received(receiver)
    assert len(data) <= MAX_DATAGRAM
    assert data.decode().startswith("STATUS=жжж")


def test_abstract_socket() -> None:
    """An '@' NOTIFY_SOCKET reaches a socket in the abstract namespace."""
    name = f"newswatch-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        with SystemdNotifier("@" + name) as n:
            n.ready()
        assert sock.recv(65536) == b"READY=1"


def test_full_queue_does_not_block(
    notifier: SystemdNotifier,
    receiver: tuple[socket.socket, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a receiver that never reads, sends are dropped with a debug log, never blocking."""
    caplog.set_level(logging.DEBUG, logger="newswatch.app.sdnotify")

    def flood() -> None:
        for _ in range(10_000):
            notifier.watchdog()

    worker = threading.Thread(target=flood, daemon=True)
    worker.start()
    worker.join(HANG_GUARD_S)
    hung = worker.is_alive()
    receiver[0].close()  # unblocks a blocking sender, so a failing test still ends
    assert not hung
    assert any("dropped" in r.getMessage() for r in caplog.records)


def test_missing_socket_does_not_raise(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A NOTIFY_SOCKET path with nobody listening is logged once as a warning, not raised."""
    with SystemdNotifier(str(tmp_path / "gone.sock")) as n:
        n.ready()
        n.watchdog()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "sd_notify failed" in warnings[0].getMessage()


@pytest.mark.parametrize("value", [None, ""])
def test_disabled_without_socket(value: str | None) -> None:
    """Without NOTIFY_SOCKET the notifier is disabled and every call is a no-op."""
    n = SystemdNotifier(value, watchdog_usec="60000000")
    assert not n.enabled
    assert n.watchdog_interval is None
    n.ready("x")
    n.reloading(1)
    n.status("x")
    n.watchdog()
    n.stopping()
    n.close()


def test_unsupported_socket_disables(caplog: pytest.LogCaptureFixture) -> None:
    """A NOTIFY_SOCKET that is neither absolute nor abstract disables it with a warning."""
    n = SystemdNotifier("vsock:2:1234")
    assert not n.enabled
    assert "unsupported NOTIFY_SOCKET" in caplog.text


def test_enabled_with_socket(notifier: SystemdNotifier) -> None:
    """With a usable NOTIFY_SOCKET the notifier is enabled."""
    assert notifier.enabled


def test_close_makes_calls_noops(
    notifier: SystemdNotifier, receiver: tuple[socket.socket, str]
) -> None:
    """After close() nothing is sent and the notifier reports itself disabled."""
    notifier.close()
    notifier.ready()
    assert not notifier.enabled
    receiver[0].setblocking(False)
    with pytest.raises(BlockingIOError):
        receiver[0].recv(65536)


def test_watchdog_interval_half_of_usec(receiver: tuple[socket.socket, str]) -> None:
    """The ping interval is half of WATCHDOG_USEC, in seconds."""
    with SystemdNotifier(receiver[1], watchdog_usec="60000000") as n:
        assert n.watchdog_interval == 30.0


def test_watchdog_interval_for_own_pid(receiver: tuple[socket.socket, str]) -> None:
    """WATCHDOG_PID naming this process keeps the watchdog."""
    with SystemdNotifier(receiver[1], "20000000", watchdog_pid="4242", pid=4242) as n:
        assert n.watchdog_interval == 10.0


def test_watchdog_pid_defaults_to_this_process(receiver: tuple[socket.socket, str]) -> None:
    """Without an explicit pid, WATCHDOG_PID is compared with os.getpid()."""
    with SystemdNotifier(receiver[1], "20000000", watchdog_pid=str(os.getpid())) as n:
        assert n.watchdog_interval == 10.0


def test_watchdog_for_other_pid(receiver: tuple[socket.socket, str]) -> None:
    """WATCHDOG_PID naming another process means no watchdog for us."""
    with SystemdNotifier(receiver[1], "20000000", watchdog_pid="4243", pid=4242) as n:
        assert n.watchdog_interval is None


@pytest.mark.parametrize(
    ("usec", "pid_value", "expected"),
    [
        (None, None, None),
        ("", None, None),
        ("0", None, None),
        ("-5", None, None),
        ("abc", None, None),
        ("1000000", "", 0.5),
        ("1000000", "notapid", None),
        ("1000000", "7", 0.5),
        (" 3000000 ", None, 1.5),
    ],
)
def test_watchdog_interval_table(
    usec: str | None, pid_value: str | None, expected: float | None
) -> None:
    """watchdog_interval() handles unset, invalid and foreign-pid values."""
    assert watchdog_interval(usec, pid_value, 7) == expected


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("/run/systemd/notify", "/run/systemd/notify"),
        ("@abstract", "\0abstract"),
        ("@", None),
        ("relative.sock", None),
        ("vsock:2:99", None),
    ],
)
def test_socket_address(value: str, address: str | None) -> None:
    """NOTIFY_SOCKET values map to AF_UNIX addresses, or None when unusable."""
    assert socket_address(value) == address
