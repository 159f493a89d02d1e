"""Tests for newswatch.parse.caps: documents cut before their entry cap, still well-formed."""

from __future__ import annotations

import pytest

from newswatch.parse import cap_entries


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (
            b"<rss><channel><title>t</title><item>a</item><item>b</item><item>c</item></channel></rss>",
            b"<rss><channel><title>t</title><item>a</item><item>b</item></channel></rss>",
        ),
        (
            b"<a:feed xmlns:a='urn:a'><a:entry/><a:entry/><a:entry/></a:feed>",
            b"<a:feed xmlns:a='urn:a'><a:entry/><a:entry/></a:feed>",
        ),
        (
            b"<rdf:RDF xmlns:rdf='urn:r'><channel/><item/><item><![CDATA[<item>]]></item><item/>"
            b"</rdf:RDF>",
            b"<rdf:RDF xmlns:rdf='urn:r'><channel/><item/><item><![CDATA[<item>]]></item>"
            b"</rdf:RDF>",
        ),
        (b"<rss><item/><item/><item/><broken", b"<rss><item/><item/></rss>"),
        (b"<rss><item/><broken <item/><item/>", b"<rss><item/><broken <item/><item/>"),
        (b"<rss><item/><item/></rss>", b"<rss><item/><item/></rss>"),
        (  # found by the fuzzer: pyexpat raises LookupError for an unknown encoding name
            b'<?xml version="1.0" encoding="aSO-8859-1"?><rss><item/><item/><item/></rss>',
            b'<?xml version="1.0" encoding="aSO-8859-1"?><rss><item/><item/><item/></rss>',
        ),
    ],
)
def test_cap_entries(body: bytes, kept: bytes) -> None:
    """A document is cut before its third entry and closed again; one that expat cannot
    read up to the cut is kept whole, as is one with no more than two entries."""
    assert cap_entries(body, 2) == kept
