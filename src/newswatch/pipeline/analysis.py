"""The one worker pass over a poll's new articles: which watches each matches, and each
one's story signature, in the same job (DESIGN.md "The flow").

A worker compiles the configuration's watches once and keeps them by a digest of their
source: a job names the watches by digest only, and carries their source only when the
worker that took it did not have them (``NotHeld``: the parent sends it again with the
source). So a job costs the pickling of its articles and a digest, not of 1,000 watches.

This module is what a worker imports for the job: it imports only ``match`` and
``cluster``; the watches travel as plain :class:`~newswatch.match.WatchSpec` data, so a
worker never imports the configuration layer (pydantic, YAML: ~20 MB per worker).
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from newswatch import cluster
from newswatch.match import Watchlist, WatchSpec, compile_watches
from newswatch.models import Article, Match, StorySignature

if TYPE_CHECKING:
    from newswatch.config import Settings

__all__ = ["Analysis", "NotHeld", "WatchSource", "analyse"]


@dataclass(frozen=True, slots=True)
class WatchSource:
    """A configuration's watches as a worker receives them: a digest, and their pickled
    source (``terms`` and ``watches``) when the worker is to compile them."""

    digest: str
    source: bytes | None = field(default=None, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> WatchSource:
        terms = {name: tuple(items) for name, items in settings.terms.items()}
        watches = [WatchSpec.of(w) for w in settings.watches]
        source = pickle.dumps((terms, watches), pickle.HIGHEST_PROTOCOL)
        return cls(hashlib.blake2b(source, digest_size=16).hexdigest(), source)

    def named(self) -> WatchSource:
        """The same watches, by digest only."""
        return WatchSource(self.digest)


class NotHeld(Exception):
    """The worker does not hold the watches a job names (send their source)."""


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the worker found: the matches of the articles it was to match (by entry
    key; only those that match something) and the story signature of every article
    (none when stories are off)."""

    matches: dict[str, tuple[Match, ...]]
    signatures: dict[str, StorySignature]


_held: dict[str, Watchlist] = {}  # in a worker: the watches of the current configuration


def _watchlist(watches: WatchSource) -> Watchlist:
    found = _held.get(watches.digest)
    if found is None:
        if watches.source is None:
            raise NotHeld(watches.digest)
        terms, source = pickle.loads(watches.source)  # noqa: S301 - from our own parent
        found = compile_watches(terms, source)
        _held.clear()  # one configuration at a time
        _held[watches.digest] = found
    return found


def analyse(
    articles: Sequence[Article],
    watches: WatchSource,
    to_match: Collection[str],
    stories: bool,
) -> Analysis:
    """Match the articles whose entry key is in ``to_match`` against ``watches`` and,
    with ``stories``, sign every article."""
    watchlist = _watchlist(watches)
    matches: dict[str, tuple[Match, ...]] = {}
    for article in articles:
        if article.entry_key in to_match and (found := watchlist.match(article)):
            matches[article.entry_key] = tuple(found)
    signatures = cluster.signatures(articles) if stories else {}
    return Analysis(matches, signatures)
