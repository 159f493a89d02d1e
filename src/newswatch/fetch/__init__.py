"""Fetching feeds over HTTP: one capped, conditional GET turned into a ``FetchResult``.

Everything a feed server controls is capped: total time, body size (counted after
decompression, which is itself bounded: :mod:`.inflate`), redirects (count, loops, schemes,
and no hop from a public address to a private one: :mod:`.redirects`). HTTP outcomes are
classified by one function, :func:`.policy.classify`. ``Fetcher.fetch`` (:mod:`.client`)
never raises for anything a server can do, and its error texts never contain a full URL
(URLs can carry secrets: :mod:`.failures`).
"""

from newswatch.fetch.client import ACCEPT, DEFAULT_USER_AGENT, Fetcher
from newswatch.fetch.failures import MAX_HEADER_BYTES
from newswatch.fetch.inflate import ACCEPT_ENCODING
from newswatch.fetch.policy import Decision, Redirect, classify, parse_max_age
from newswatch.waits import parse_retry_after

__all__ = [
    "ACCEPT",
    "ACCEPT_ENCODING",
    "DEFAULT_USER_AGENT",
    "MAX_HEADER_BYTES",
    "Decision",
    "Fetcher",
    "Redirect",
    "classify",
    "parse_max_age",
    "parse_retry_after",
]
