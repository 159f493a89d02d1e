"""Bounded decompression of response bodies (gzip, deflate), so that the size cap holds
after decoding."""

from __future__ import annotations

import zlib

from newswatch.fetch.failures import Refused
from newswatch.redact import redact_text

__all__ = ["ACCEPT_ENCODING", "Inflater"]

ACCEPT_ENCODING = "gzip, deflate"  # only what ``Inflater`` can decode with a bound


class Inflater:
    """Incremental decoding of a response body that never produces more than ``limit`` bytes.

    zlib's ``max_length`` bounds each step, so a gzip bomb costs at most ~``limit`` bytes of
    memory before it is refused.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c not in ("", "identity")]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            shown = redact_text(content_encoding)[:40]
            raise Refused(f"unsupported content encoding {shown!r}")
        self._coding = codings[0] if codings else "identity"
        self._limit = limit
        self._total = 0
        self._pending = b""  # deflate: bytes held until the header can be sniffed
        self._zlib: zlib._Decompress | None = None
        if self._coding != "deflate" and self._coding != "identity":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def _count(self, piece: bytes) -> bytes:
        """``piece``, once counted against the limit; raises ``Refused`` past it."""
        self._total += len(piece)
        if self._total > self._limit:
            raise Refused(f"body larger than {self._limit} bytes", http_status=200)
        return piece

    def _deflate_decoder(self, head: bytes) -> zlib._Decompress:
        """A decoder for "deflate": zlib-wrapped by the standard, raw from some servers."""
        wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        """Decode the next raw chunk; raises ``Refused`` past the limit."""
        if self._coding == "identity":
            return self._count(data)
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return b""
            self._zlib = self._deflate_decoder(self._pending)
            data, self._pending = self._pending, b""
        return self._inflate(self._zlib, data)

    def _inflate(self, decoder: zlib._Decompress, data: bytes) -> bytes:
        """Decode ``data`` step by step within the limit, across gzip members."""
        out: list[bytes] = []
        while data:
            out.append(self._count(decoder.decompress(data, self._limit - self._total + 1)))
            if not decoder.eof:
                data = decoder.unconsumed_tail
                continue
            data = decoder.unused_data
            if not data.startswith(b"\x1f\x8b"):  # not another gzip member: trailing junk
                break
            decoder = self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return b"".join(out)

    def finish(self) -> bytes:
        """Whatever the decoder still holds, at the end of the body."""
        if self._zlib is None:
            if not self._pending:
                return b""
            self._zlib = self._deflate_decoder(self._pending)
            return self._inflate(self._zlib, self._pending)
        return self._count(self._zlib.flush(self._limit - self._total + 1))
