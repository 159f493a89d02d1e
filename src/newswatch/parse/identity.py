"""Links and identity keys: which links are usable, and what makes two entries the same.

``entry_key`` is an article's identity within its feed (guid, else normalized link, else a
hash of title and text); ``normalize_url`` gives its identity across feeds (SPEC §4). This is
the one place both are defined (DESIGN rule 7).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "entry_key", "normalize_url", "safe_link"]

# Tracking parameters: a denylist, never an allowlist (an allowlist drops ?storyid=55).
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "ysclid", "twclid", "ttclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid",
        "_ga", "_gl", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_conv", "vero_id", "wickedid",
        "s_kwcid", "ef_id", "_openstat", "ref_src", "ref_url", "cmpid", "ito", "at_medium",
        "at_campaign", "ncid", "sr_share", "guccounter", "guce_referrer", "guce_referrer_sig",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?%:@!$'()*+,;=-._~"
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_url(url: str, base: str | None = None) -> str | None:
    """The cross-feed identity of a link, or None if it is not a usable http(s) URL.

    Scheme and host lower-cased (IDN hosts as punycode), default port, fragment and tracking
    parameters removed, other parameters kept in order, escapes normalized. Idempotent.
    """
    try:
        parts = urlsplit(urljoin(base, url.strip()) if base else url.strip())
        scheme = parts.scheme.lower()
        port = parts.port
    except ValueError:
        return None
    host = _normalize_host(parts.hostname or "")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@" if userinfo else ""
    netloc += f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = _normalize_escapes(quote(parts.path, safe=_PATH_SAFE)) or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


def _normalize_host(host: str) -> str:
    """Lower-case, drop trailing dots, IDN labels to punycode (kept as-is if invalid)."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _normalize_escapes(text: str) -> str:
    """Upper-case percent escapes and decode those of unreserved characters (RFC 3986 6.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE.sub(fix, text)


def _is_tracking(name: str) -> bool:
    """Whether a query parameter named ``name`` only tracks the reader."""
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    """Drop tracking and empty parameters; keep the others, in order, as written."""
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        pair = _normalize_escapes(quote(pair, safe=_QUERY_SAFE))
        name = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), pair.partition("=")[0])
        if not _is_tracking(name):
            kept.append(pair)
    return "&".join(kept)


def safe_link(link: object, base: str | None) -> str | None:
    """An absolute http(s) link, resolved against ``base``, without control characters
    (browsers drop them too; a CR/LF must never reach a header); anything else
    (javascript:, data:, mailto:, garbage) is dropped."""
    if not isinstance(link, str):
        return None
    link = _URL_CONTROL.sub("", link).strip()
    if not link:
        return None
    try:
        absolute = urljoin(base or "", link)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return absolute


def entry_key(guid: str | None, link_key: str | None, title: str, text: str) -> str:
    """An article's identity within its feed: its guid, else its normalized link, else the
    SHA-256 (hex) of its title and text."""
    if guid and guid.strip():
        return guid.strip()
    if link_key:
        return link_key
    return hashlib.sha256(f"{title}\x1f{text}".encode()).hexdigest()
