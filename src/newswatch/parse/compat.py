"""The few text rules of feedparser that its result depends on, for the lxml fast path.

The fast path (:mod:`.fastxml`) must give exactly the values the feedparser path gives, so
these repeat what feedparser does to every text field it stores: strip it, mend UTF-8 that
was mis-decoded as Latin-1, map the Windows-1252 C1 characters, guess whether nominally
plain RSS text is HTML, and join links to a base after folding ``scheme:////`` slashes.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urljoin

__all__ = ["fix_link_text", "join", "looks_like_html", "map_type", "stored_text"]

# C1 controls -> the Windows-1252 characters (0x81, 0x8d, 0x8f, 0x90, 0x9d stay: undefined)
_CP1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
_EXTRA_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_CLOSE_OR_ENTITY = re.compile(r"</(\w+)>|&#?\w+;")
_LINK_ENTITY = re.compile(r"&([A-Za-z0-9_]+);")
_TYPE_NAMES = {"text": "text/plain", "plain": "text/plain", "html": "text/html"}
_TYPE_NAMES["xhtml"] = "application/xhtml+xml"


def stored_text(raw: str) -> str:
    """A text element's value as feedparser stores it from a UTF-8 document: stripped,
    UTF-8 read as Latin-1 decoded again, C1 controls read as Windows-1252."""
    text = raw.strip()
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_CP1252)


def fix_link_text(link: str, *, in_entry: bool) -> str:
    """feedparser's repair of ``?a=1&b;=2`` in a link element's text (an entry's link also
    has ``&amp;`` undone)."""
    if in_entry:
        link = link.replace("&amp;", "&")
    return _LINK_ENTITY.sub(r"&\g<1>", link)


def join(base: str, uri: str) -> str:
    """``uri`` resolved against ``base`` the way feedparser does ('' if unusable)."""
    uri = _EXTRA_SLASHES.sub(r"\1\3", uri)
    try:
        return urljoin(base, uri)
    except ValueError:
        return ""


def map_type(declared: str) -> str:
    """A declared content type in its long form (``html`` -> ``text/html``)."""
    declared = declared.lower()
    return _TYPE_NAMES.get(declared, declared)


def looks_like_html(text: str) -> bool:
    """Whether feedparser takes nominally plain RSS text as HTML (a close tag or an entity,
    and only tags and entities it knows). Its own test is asked, imported only for text
    that passes the cheap first check."""
    if not _CLOSE_OR_ENTITY.search(text):
        return False
    from feedparser.mixin import _FeedParserMixin  # the rule itself, not a copy of it

    return bool(_FeedParserMixin.looks_like_html(text))
