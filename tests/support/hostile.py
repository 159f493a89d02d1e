"""A hostile feed server on loopback: every way a feed server can misbehave, one per path.

Speaks raw HTTP/1.1 over sockets so that it can break the protocol on purpose. Every
request loop is bounded (in bytes or by the server's stop event), and the server only ever
listens on 127.0.0.1.

    with HostileServer() as server:
        url = server.url("/drip")
        ...
        assert server.peak_concurrency <= 2
"""

from __future__ import annotations

import select
import socket
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import TracebackType
from typing import Self

ENDLESS_LIMIT = 64 * 10**6  # the "endless" body stops here, whatever the client does
NORMAL_TITLE = "Lukashenko meets the press"

Handler = Callable[["HostileServer", socket.socket, str], None]


def response(status: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def rss(items: str, title: str = "Hostile", encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://hostile.example/</link>{items}</channel></rss>"
    )


def item(guid: str, title: str) -> str:
    return f"<item><guid>{guid}</guid><title>{title}</title></item>"


XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


def _send(answer: bytes) -> Handler:
    def handle(server: HostileServer, conn: socket.socket, path: str) -> None:
        conn.sendall(answer)

    return handle


def _drip(server: HostileServer, conn: socket.socket, path: str) -> None:
    """Headers at once, then one body byte every 0.2 s: alive forever, read by read."""
    body = rss(item("d1", "drip")).encode()
    head = response("200 OK", body, XML)[: -len(body)]
    conn.sendall(head)
    for byte in body:
        if server.stopping.wait(0.2):
            return
        conn.sendall(bytes([byte]))


def _slow_start(server: HostileServer, conn: socket.socket, path: str) -> None:
    """Accepts the request, then says nothing."""
    server.stopping.wait(60)


def _endless(server: HostileServer, conn: socket.socket, path: str) -> None:
    """A 200 without a length whose body never ends (until ENDLESS_LIMIT)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n")
    conn.sendall(b"<rss version='2.0'><channel><title>endless</title>")
    chunk = b"<item><title>more</title></item>" * 2000
    sent = 0
    while sent < ENDLESS_LIMIT and not server.stopping.is_set():
        conn.sendall(chunk)
        sent += len(chunk)


def _gzip_bomb() -> bytes:
    """~100 KB of gzip that inflates to 100 MB of spaces (ten times poll.max_bytes)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * 10**6
    parts = [compressor.compress(block) for _ in range(100)]
    return b"".join(parts) + compressor.flush()


def _header_flood() -> bytes:
    return b"HTTP/1.1 200 OK\r\n" + b"X-Flood: " + b"a" * 80_000 + b"\r\nContent-Length: 0\r\n\r\n"


def _redirect(target: str, status: str = "302 Found") -> Handler:
    def handle(server: HostileServer, conn: socket.socket, path: str) -> None:
        location = target if "://" in target else server.url(target)
        conn.sendall(response(status, b"", {"Location": location}))

    return handle


def _chain(server: HostileServer, conn: socket.socket, path: str) -> None:
    """/chain/N redirects to /chain/N+1, forever."""
    step = int(path.rsplit("/", 1)[1]) + 1
    conn.sendall(response("301 Moved Permanently", b"", {"Location": server.url(f"/chain/{step}")}))


def _retry_after_date() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + ']><rss version="2.0"><channel><title>Laughs</title>'
    + item("lol", "&lol9;")
    + "</channel></rss>"
)


def xxe_document(secret_path: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret_path}">]>'
        '<rss version="2.0"><channel><title>XXE &xxe;</title>'
        + item("xxe", "leak &xxe;")
        + "</channel></rss>"
    )


def hostile_routes(secret_path: str) -> dict[str, Handler]:
    """Every hostile mode by path."""
    many = rss("".join(item(f"m{i}", f"item {i}") for i in range(100_000)))
    return {
        "/drip": _drip,
        "/slow-start": _slow_start,
        "/endless": _endless,
        "/gzip-bomb": _send(response("200 OK", _gzip_bomb(), {**XML, "Content-Encoding": "gzip"})),
        "/redirect-loop": _redirect("/redirect-loop-2"),
        "/redirect-loop-2": _redirect("/redirect-loop"),
        "/chain/0": _chain,
        "/metadata": _redirect("http://169.254.169.254/latest/meta-data/"),
        "/429": _send(response("429 Too Many Requests", b"slow down", {"Retry-After": "7200"})),
        "/503": _send(
            response("503 Service Unavailable", b"", {"Retry-After": _retry_after_date()})
        ),
        "/500": _send(response("500 Internal Server Error", b"oops")),
        "/410": _send(response("410 Gone", b"")),
        "/html": _send(
            response(
                "200 OK",
                b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>Hi</body></html>",
                {"Content-Type": "text/html"},
            )
        ),
        "/empty": _send(response("200 OK", b"", XML)),
        "/garbage": _send(response("200 OK", bytes(range(256)) * 64, XML)),
        "/wrong-charset": _send(
            response("200 OK", rss(item("wc1", "Лукашенко заявил")).encode("cp1251"), XML)
        ),
        "/billion-laughs": _send(response("200 OK", BILLION_LAUGHS.encode(), XML)),
        "/xxe": _send(response("200 OK", xxe_document(secret_path).encode(), XML)),
        "/many-items": _send(response("200 OK", many.encode(), XML)),
        "/huge-title": _send(
            response("200 OK", rss(item("big", "Minsk " * 900_000)).encode(), XML)
        ),
        "/header-flood": _send(_header_flood()),
    }


def normal_routes() -> dict[str, Handler]:
    """A well-behaved feed with one item worth an alert."""
    body = rss(item("normal-1", NORMAL_TITLE), title="Normal").encode()
    return {"/normal": _send(response("200 OK", body, XML))}


class HostileServer:
    """A threaded raw-HTTP server on 127.0.0.1 answering each path with one hostile mode."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.stopping = threading.Event()
        self.requests: list[str] = []
        self.open: set[socket.socket] = set()
        self.peak_concurrency = 0  # requests whose client was connected at the same time
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)  # so that the accept loop notices the stop
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self._sock.close()
        self._thread.join(5)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.settimeout(10)
                head = conn.recv(65536).decode("latin-1")
                path = head.split(" ", 2)[1] if head.count(" ") >= 2 else "/"
                with self._lock:
                    self.requests.append(path)
                    # A handler may still be sleeping or writing after its client hung up:
                    # count only requests whose client is still connected.
                    live = 1 + sum(1 for other in self.open if not _hung_up(other))
                    self.peak_concurrency = max(self.peak_concurrency, live)
                    self.open.add(conn)
                handler = self.routes.get(path)
                if handler is None and path.startswith("/chain/"):
                    handler = _chain
                if handler is None:
                    conn.sendall(response("404 Not Found", b"no such mode"))
                else:
                    handler(self, conn, path)
        except OSError:
            pass  # the client hung up: that is what deadlines and caps do
        finally:
            with self._lock:
                self.open.discard(conn)


def _hung_up(conn: socket.socket) -> bool:
    """Whether the client closed its end (a FIN or RST is waiting to be read)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (OSError, ValueError):  # ValueError: another thread closed it already (fd -1)
        return True


__all__ = [
    "NORMAL_TITLE",
    "HostileServer",
    "hostile_routes",
    "normal_routes",
]
