"""Mail headers that no feed can forge.

A header value is never handed to the ``email`` package's parser: that parser *decodes*
RFC 2047 encoded-words in a value assigned to a header, and CPython before 3.11.10 /
3.12.5 (CVE-2024-6923) then writes a decoded CR/LF raw, so a feed title such as
``=?utf-8?q?x=0D=0AReply-To=3A_a=40evil?=`` could add headers or start the body. Instead
each value is made here: one cleaned line, written as folded plain ASCII words when that
is what it is, else as UTF-8 encoded-words of at most 75 characters (so text that merely
looks like an encoded-word stays literal text), and stored raw. After the whole message is
built it is serialized and parsed back (:func:`verify`): the headers must be exactly the
ones written, each with its intended one-line value, and the body parts intact; a message
that fails is never sent as is.
"""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser

# RFC 2045: quoted-printable lines of at most 76 characters. The policy's line length is
# also what the body encoder uses, and what headers set through the policy fold at.
LINE_MAX = 76
MAIL_POLICY = email.policy.default.clone(max_line_length=LINE_MAX)
_PARSE_POLICY = email.policy.default


class UnsafeMailError(ValueError):
    """A built message does not read back as what was written: it must not be sent."""


def _plain(name: str, value: str) -> bool:
    """True when ``value`` can stand in the header as it is: printable ASCII, no text that
    a reader could take for an encoded-word, and no word too long to fold."""
    if not value.isascii() or not value.isprintable() or "=?" in value:
        return False
    room = LINE_MAX - len(name) - 2
    return all(len(word) <= room for word in value.split(" "))


def _fold_words(name: str, value: str) -> str:
    """``value`` folded at spaces so every line stays within ``LINE_MAX``; the first line
    always carries the first word (readers show a value folded right after the colon with
    a leading space)."""
    lines: list[str] = []
    line = ""
    limit = LINE_MAX - len(name) - 2
    for word in value.split(" "):
        if line and len(line) + 1 + len(word) > limit:
            lines.append(line)
            line, limit = word, LINE_MAX - 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n ".join(lines)


def header_value(name: str, value: str) -> str:
    """The raw, folded form of the one-line ``value`` for header ``name``."""
    if "\r" in value or "\n" in value:
        raise UnsafeMailError(f"{name}: a header value must be one line")
    if _plain(name, value):
        return _fold_words(name, value)
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\n", maxlinelen=LINE_MAX)
    return str(encoded)


def build(headers: Sequence[tuple[str, str]], text: str, html_body: str) -> EmailMessage:
    """A ``multipart/alternative`` message (text + HTML, quoted-printable) with exactly
    ``headers``, each value one line; raises :class:`UnsafeMailError` when the serialized
    message would not read back as written."""
    msg = EmailMessage(policy=MAIL_POLICY)
    for name, value in headers:
        msg.set_raw(name, header_value(name, value))
    # quoted-printable keeps every line 7-bit and short, whatever the server's extensions.
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html_body, subtype="html", cte="quoted-printable")
    verify(msg, headers, (text, html_body))
    return msg


def verify(msg: EmailMessage, headers: Sequence[tuple[str, str]], bodies: Sequence[str]) -> None:
    """Serialize ``msg`` as it would be sent, parse it back and check that its top-level
    headers are ``headers`` plus only MIME's own, in order, with the same values; that no
    line exceeds 998 octets; and that its parts are ``bodies``."""
    raw = msg.as_bytes(policy=MAIL_POLICY.clone(linesep="\r\n"))
    if any(len(line) > 998 for line in raw.split(b"\r\n")):
        raise UnsafeMailError("a line of the message is longer than 998 octets")
    back = BytesParser(policy=_PARSE_POLICY).parsebytes(raw)
    wanted = [name.lower() for name, _ in headers]
    mime = ["mime-version", "content-type"]
    got = [name.lower() for name in back]
    if got != wanted + mime:
        raise UnsafeMailError(f"headers read back as {got}, not {wanted + mime}")
    for name, value in headers:
        if str(back[name]) != value:
            raise UnsafeMailError(f"{name} reads back as {str(back[name])!r}, not {value!r}")
    parts = [part for part in back.walk() if not part.is_multipart()]
    contents = [_lines(part.get_content()) for part in parts if isinstance(part, EmailMessage)]
    if contents != [_lines(body) for body in bodies]:
        raise UnsafeMailError("the body does not read back as written")


def _lines(text: str) -> str:
    """``text`` with every line ending as ``\n`` (the wire form ends lines in CR LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
