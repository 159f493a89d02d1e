"""The systemd notification protocol (sd_notify), without a C dependency.

A notification is one datagram of ``KEY=value`` lines sent to the ``AF_UNIX``
``SOCK_DGRAM`` socket named by ``$NOTIFY_SOCKET`` (a leading ``@`` names a socket in
the Linux abstract namespace). The send is non-blocking: when systemd is slow and the
socket's queue is full, a blocking send would hang the daemon forever, so the message
is dropped instead (systemd only needs the next one).

This module never reads the environment: the daemon passes ``os.environ`` values in.
Every call is a no-op when the process does not run under systemd.
"""

from __future__ import annotations

import logging
import os
import socket
from types import TracebackType

log = logging.getLogger(__name__)

# systemd reads at most PIPE_BUF bytes of one notification and ignores longer ones.
MAX_DATAGRAM = 4096
_UNSAFE = str.maketrans({"\n": " ", "\r": " ", "\0": " "})


def socket_address(notify_socket: str) -> str | None:
    """The ``AF_UNIX`` address named by a ``$NOTIFY_SOCKET`` value, or None if unusable.

    An absolute path is a filesystem socket; ``@name`` is ``\\0name`` in the abstract
    namespace. Anything else (empty, relative, ``vsock:`` of newer systemd) is unusable.
    """
    if notify_socket.startswith("/"):
        return notify_socket
    if notify_socket.startswith("@") and len(notify_socket) > 1:
        return "\0" + notify_socket[1:]
    return None


def watchdog_interval(
    watchdog_usec: str | None, watchdog_pid: str | None, pid: int
) -> float | None:
    """Seconds between watchdog pings: half of ``$WATCHDOG_USEC``, as systemd advises.

    None when no watchdog is set, the value is invalid, or ``$WATCHDOG_PID`` names a
    process other than ``pid`` (the watchdog then belongs to that process, not to us).
    """
    if not watchdog_usec:
        return None
    if watchdog_pid and _parse_positive(watchdog_pid) != pid:
        return None
    usec = _parse_positive(watchdog_usec)
    if usec is None:
        log.warning("sd_notify ignoring invalid WATCHDOG_USEC value=%r", watchdog_usec)
        return None
    return usec / 2 / 1_000_000


def _parse_positive(text: str) -> int | None:
    """``text`` as a positive decimal integer, or None."""
    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit():
        return None
    value = int(stripped)
    return value if value > 0 else None


def encode(fields: list[tuple[str, str]]) -> bytes:
    """Encode assignments as a datagram; values cannot inject further assignments.

    CR, LF and NUL in a value become spaces (systemd splits on LF and rejects NUL),
    and the last value is shortened so that the datagram fits ``MAX_DATAGRAM``.
    """
    lines = [f"{key}={value.translate(_UNSAFE)}".encode(errors="replace") for key, value in fields]
    data = b"\n".join(lines)
    if len(data) > MAX_DATAGRAM:
        data = data[:MAX_DATAGRAM].decode(errors="ignore").encode()
    return data


class SystemdNotifier:
    """Sends readiness, reload, status, watchdog and stop notifications to systemd."""

    def __init__(
        self,
        notify_socket: str | None,
        watchdog_usec: str | None = None,
        watchdog_pid: str | None = None,
        pid: int | None = None,
    ) -> None:
        """Prepare to notify the socket ``notify_socket`` (``$NOTIFY_SOCKET``), if any.

        ``watchdog_usec``/``watchdog_pid`` are ``$WATCHDOG_USEC``/``$WATCHDOG_PID``;
        ``pid`` is this process (default: ``os.getpid()``).
        """
        self._address = socket_address(notify_socket) if notify_socket else None
        if notify_socket and self._address is None:
            log.warning("sd_notify disabled: unsupported NOTIFY_SOCKET value=%r", notify_socket)
        self._sock = self._open() if self._address is not None else None
        self._warned = False
        own_pid = os.getpid() if pid is None else pid
        self.watchdog_interval: float | None = (
            watchdog_interval(watchdog_usec, watchdog_pid, own_pid) if self.enabled else None
        )

    @staticmethod
    def _open() -> socket.socket | None:
        """A non-blocking datagram socket, or None if the system refuses one."""
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        except OSError as exc:
            log.warning("sd_notify disabled: cannot create socket error=%s", exc)
            return None
        sock.setblocking(False)
        return sock

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a usable notification socket."""
        return self._sock is not None

    def ready(self, status: str = "") -> None:
        """Tell systemd start-up (or a reload) is complete: ``READY=1``."""
        fields = [("READY", "1")]
        if status:
            fields.append(("STATUS", status))
        self._send(fields)

    def reloading(self, monotonic_usec: int) -> None:
        """Tell systemd a reload began (``RELOADING=1``); finish it with :meth:`ready`.

        ``monotonic_usec`` is ``CLOCK_MONOTONIC`` now, in microseconds (systemd ≥ 253
        uses it to match the reload to its request; 252 ignores it).
        """
        self._send([("RELOADING", "1"), ("MONOTONIC_USEC", str(monotonic_usec))])

    def status(self, text: str) -> None:
        """Set the one-line status shown by ``systemctl status``: ``STATUS=...``."""
        self._send([("STATUS", text)])

    def watchdog(self) -> None:
        """Ping the watchdog: ``WATCHDOG=1``. Call it every :attr:`watchdog_interval`."""
        self._send([("WATCHDOG", "1")])

    def stopping(self) -> None:
        """Tell systemd the daemon is shutting down: ``STOPPING=1``."""
        self._send([("STOPPING", "1")])

    def close(self) -> None:
        """Close the socket; later calls are no-ops."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> SystemdNotifier:
        """Use the notifier as a context manager that closes it on exit."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the socket."""
        self.close()

    def _send(self, fields: list[tuple[str, str]]) -> None:
        """Send one datagram without blocking; drop it (and log) if it cannot go now."""
        if self._sock is None or self._address is None:
            return
        data = encode(fields)
        try:
            self._sock.sendto(data, socket.MSG_DONTWAIT, self._address)
        except BlockingIOError:
            log.debug("sd_notify dropped: socket queue full message=%s", fields[0][0])
        except OSError as exc:
            self._log_failure(fields[0][0], exc)

    def _log_failure(self, key: str, exc: OSError) -> None:
        """Warn once about a notification systemd cannot receive, then stay quiet."""
        level = logging.DEBUG if self._warned else logging.WARNING
        self._warned = True
        log.log(level, "sd_notify failed message=%s error=%s", key, exc)
