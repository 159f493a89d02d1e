"""Real loopback peers for delivery tests: an HTTP receiver, an SMTP server, test TLS
certificates, and sockets that never answer or refuse.

Everything listens on 127.0.0.1 only. Each helper is a context manager that records what
arrived and can be told how to answer (a scripted sequence of replies).
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port that was free a moment ago (aiosmtpd cannot be given port 0 itself)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


# --- HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """How the receiver answers one request."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds to wait before answering (a slow receiver)


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived: method, path, headers in order, raw body, and when."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()  # no delayed-ACK stall (see FeedServer)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, address


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        request = ReceivedRequest(self.command, self.path, list(self.headers.items()), body)
        reply = self.server.receiver.record(request)
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response_only(reply.status)
        if "date" not in {k.lower() for k in reply.headers}:
            self.send_header("Date", self.date_time_string())
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        try:
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a killed daemon): nothing to answer

    do_GET = do_PUT = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``requests`` instead."""


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 that records every request and answers from a
    script (``script(Reply(503, {"Retry-After": "7"}), Reply(200))``), then 200 ``ok``."""

    def __init__(
        self, path: str = "/hook/T000/B000/s3cr3t-token", *, default: Reply | None = None
    ) -> None:
        self.path = path
        self.default = default or Reply()  # the answer once the script is used up
        self.requests: list[ReceivedRequest] = []
        self._replies: deque[Reply] = deque()
        self._arrived = threading.Condition()
        self._server = _HttpServer((LOOPBACK, 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """The full URL to post to (its path plays the part of a secret token)."""
        return f"http://{LOOPBACK}:{self._server.server_address[1]}{self.path}"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        with self._arrived:
            self._replies.extend(replies)

    def record(self, request: ReceivedRequest) -> Reply:
        """Store ``request`` and pick its reply (called from the server's threads)."""
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
            return self._replies.popleft() if self._replies else self.default

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Block until ``count`` requests arrived (for tests where delivery is a task)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            return list(self.requests)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def silent_server() -> Iterator[str]:
    """A URL whose server accepts connections and never answers (for timeouts)."""
    with socket.create_server((LOOPBACK, 0), backlog=8) as sock:
        yield f"http://{LOOPBACK}:{sock.getsockname()[1]}/never"


def refused_url() -> str:
    """A URL on a loopback port where nothing listens (connection refused)."""
    return f"http://{LOOPBACK}:{free_port()}/nobody"


# --- TLS -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """What a loopback server presents."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA (hostname checks stay on)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_certificates(directory: Path) -> Certificates:
    """Create a CA and a server certificate with the ``openssl`` command (EC keys: fast)."""
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
             "-subj", "/CN=newswatch test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    _openssl("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
             "-out", cert, "-days", "2", "-extfile", ext)  # fmt: skip
    return Certificates(ca, cert, key)


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


# --- SMTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted mail: envelope, raw bytes, parsed message, and how it came."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None  # the AUTH user, if the client logged in
    tls: bool  # whether the session was encrypted (STARTTLS or implicit TLS)

    @property
    def message(self) -> EmailMessage:
        """The mail parsed with the modern policy."""
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _SmtpHandler:
    """aiosmtpd hooks: auth check, scripted refusals and replies, recording."""

    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._server.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._server.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        scripted = self._server.next_reply()
        if scripted is not None:
            return scripted
        assert server.transport is not None
        auth = session.auth_data
        self._server.record(
            ReceivedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=bytes(envelope.original_content or b""),
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
                tls=server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 2.0.0 Message accepted"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 in its own thread.

    ``users`` (login -> password) makes AUTH mandatory before MAIL; ``auth_require_tls``
    hides AUTH until the session is encrypted; ``starttls`` (a server context) offers
    STARTTLS; ``implicit_tls`` makes it TLS from the first byte; ``script(...)`` answers
    the next DATA commands with given replies (e.g. ``"451 4.3.0 Try again later"``);
    ``refuse`` maps recipients to RCPT replies.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        auth_require_tls: bool = True,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        refuse: Mapping[str, str] | None = None,
    ) -> None:
        self.users = dict(users or {})
        self.refuse = dict(refuse or {})
        self.messages: list[ReceivedMail] = []
        self._replies: deque[str] = deque()
        self._lock = threading.Condition()
        self.port = free_port()
        # AUTH is enforced in handle_MAIL, not by aiosmtpd's auth_required, whose
        # warning about plain-text AUTH would be an error under filterwarnings=error.
        self._controller = Controller(
            _SmtpHandler(self),
            hostname=LOOPBACK,
            port=self.port,
            ssl_context=implicit_tls,
            server_hostname="newswatch-test",
            tls_context=starttls,
            authenticator=self._authenticate if self.users else None,
            auth_require_tls=auth_require_tls,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.users.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data)

    def script(self, *replies: str) -> None:
        """Answer the next DATA commands with ``replies`` instead of accepting."""
        with self._lock:
            self._replies.extend(replies)

    def next_reply(self) -> str | None:
        with self._lock:
            return self._replies.popleft() if self._replies else None

    def record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self.messages.append(mail)
            self._lock.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Block until ``count`` mails were accepted."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} mails, got {len(self.messages)}")
            return list(self.messages)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
