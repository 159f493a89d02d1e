"""``newswatch replay``: the watchlist as it is now, over the articles already stored.

Read-only: it reads articles from the store and matches them; it creates no alert,
touches no outbox and sends nothing. It decides as the daemon does (SPEC §4): a watch's
``feeds:`` list is honoured, an article of its feed's first fetch alerts only as
``poll.first_run`` says, and a watch alerts once per story, carried by the
earliest-published copy that may alert, the others counted as copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newswatch.config import Settings
from newswatch.match import compile_watchlist
from newswatch.models import Match
from newswatch.pipeline.firstrun import alerts_on_first_fetch
from newswatch.store import Store, StoredArticle

__all__ = ["ReplayResult", "WouldAlert", "replay"]


@dataclass(frozen=True, slots=True)
class WouldAlert:
    """An alert the current watchlist would raise for a stored story."""

    watch: str
    stored: StoredArticle  # the earliest-published copy of the story that matched
    match: Match
    copies: int = 0  # later articles of the same story that matched too


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a replay found."""

    articles: int
    watches: int
    alerts: tuple[WouldAlert, ...]


def replay(
    settings: Settings, store: Store, since: datetime | None, watch: str | None = None
) -> ReplayResult:
    """Match the stored articles first seen at or after ``since`` (all when None) against
    every watch of ``settings`` (or only ``watch``)."""
    if watch is not None:
        settings = settings.model_copy(
            update={"watches": tuple(w for w in settings.watches if w.name == watch)}
        )
    watchlist = compile_watchlist(settings)
    by_name = {w.name: w for w in settings.watches}
    found: dict[tuple[str, int], WouldAlert] = {}
    articles = store.articles_since(since)
    for stored in articles:
        if stored.first_fetch and not alerts_on_first_fetch(
            stored.article.published, settings, stored.seen_at
        ):
            continue
        for match in watchlist.match(stored.article):
            if not settings.watch_covers(by_name[match.watch], stored.feed.url):
                continue
            key = (match.watch, stored.story_id)
            first = found.get(key)
            if first is None:
                found[key] = WouldAlert(match.watch, stored, match)
            elif _earlier(stored, first.stored):
                found[key] = WouldAlert(match.watch, stored, match, first.copies + 1)
            else:
                found[key] = WouldAlert(first.watch, first.stored, first.match, first.copies + 1)
    return ReplayResult(len(articles), len(settings.watches), tuple(found.values()))


def _earlier(new: StoredArticle, old: StoredArticle) -> bool:
    """Whether ``new`` was published before ``old`` (a copy without a date never was)."""
    a, b = new.article.published, old.article.published
    return a is not None and (b is None or a < b)
