"""Tests for newswatch.fetch: body caps and bounded decompression (fetch.inflate)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest
from pytest_httpx import HTTPXMock

from newswatch.models import FetchStatus
from support.fetching import FEED, RSS, Chunks, get

# --- caps and decoding --------------------------------------------------------------------


def test_body_cap_by_content_length(httpx_mock: HTTPXMock) -> None:
    """A declared Content-Length above max_bytes fails."""
    httpx_mock.add_response(url=FEED, content=b"x" * 2000)
    result = get(max_bytes=1000)
    assert (result.status, result.error) == (FetchStatus.FAILED, "body larger than 1000 bytes")


def test_body_cap_without_content_length(httpx_mock: HTTPXMock) -> None:
    """A streamed body without Content-Length is cut at max_bytes."""
    httpx_mock.add_response(url=FEED, stream=Chunks(b"x" * 2000, 100))
    result = get(max_bytes=1000)
    assert (result.status, result.error) == (FetchStatus.FAILED, "body larger than 1000 bytes")


def test_body_exactly_at_cap_is_accepted(httpx_mock: HTTPXMock) -> None:
    """A body of exactly max_bytes is fine."""
    httpx_mock.add_response(url=FEED, content=b"x" * 1000)
    assert get(max_bytes=1000).body == b"x" * 1000


def test_gzip_body_is_decoded(httpx_mock: HTTPXMock) -> None:
    """A gzip body is returned decompressed."""
    headers = {"Content-Encoding": "gzip"}
    httpx_mock.add_response(url=FEED, content=gzip.compress(RSS), headers=headers)
    assert get().body == RSS


def test_multi_member_gzip_is_decoded(httpx_mock: HTTPXMock) -> None:
    """Concatenated gzip members decode to the concatenated bodies."""
    content = gzip.compress(RSS[:10]) + gzip.compress(RSS[10:])
    httpx_mock.add_response(url=FEED, content=content, headers={"Content-Encoding": "gzip"})
    assert get().body == RSS


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
def test_deflate_body_is_decoded(httpx_mock: HTTPXMock, wbits: int) -> None:
    """'deflate' bodies decode whether zlib-wrapped or raw."""
    packer = zlib.compressobj(wbits=wbits)
    content = packer.compress(RSS) + packer.flush()
    httpx_mock.add_response(url=FEED, content=content, headers={"Content-Encoding": "deflate"})
    assert get().body == RSS


def test_cap_counts_decompressed_bytes(httpx_mock: HTTPXMock) -> None:
    """The cap applies to the decoded size, not the transferred size."""
    content = gzip.compress(b"x" * 5000)
    httpx_mock.add_response(url=FEED, content=content, headers={"Content-Encoding": "gzip"})
    result = get(max_bytes=4000)
    assert (result.status, result.error) == (FetchStatus.FAILED, "body larger than 4000 bytes")


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped, built without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + packer.flush()


def test_gzip_bomb_is_bounded(httpx_mock: HTTPXMock) -> None:
    """A 256 MB gzip bomb is refused without ever holding much more than max_bytes."""
    bomb = gzip_bomb(256 << 20)
    headers = {"Content-Encoding": "gzip"}
    httpx_mock.add_response(url=FEED, stream=Chunks(bomb), headers=headers)
    tracemalloc.start()
    try:
        result = get(max_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        f"body larger than {1 << 20} bytes",
    )
    assert peak < 16 << 20


def test_unsupported_encoding_fails(httpx_mock: HTTPXMock) -> None:
    """A content encoding we did not ask for (e.g. br) fails cleanly."""
    httpx_mock.add_response(url=FEED, content=b"\x00\x01", headers={"Content-Encoding": "br"})
    result = get()
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        "unsupported content encoding 'br'",
    )


def test_corrupt_gzip_fails(httpx_mock: HTTPXMock) -> None:
    """A body that claims gzip but is not fails as an invalid compressed body."""
    headers = {"Content-Encoding": "gzip"}
    httpx_mock.add_response(url=FEED, stream=Chunks(b"not gzip"), headers=headers)
    result = get()
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and result.error.startswith("invalid compressed body")
