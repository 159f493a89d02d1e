"""Values passed between pipeline stages: frozen, slotted, free of I/O and third-party types.

One article travels one way: bytes (FetchResult) -> Article -> Match -> Alert -> Delivery.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class FetchStatus(enum.StrEnum):
    """How a fetch ended, as classified by ``fetch``'s single status policy."""

    OK = "ok"  # 200 with a body to parse
    NOT_MODIFIED = "not_modified"  # 304: nothing changed
    GONE = "gone"  # 410: stop polling this feed
    RETRY_LATER = "retry_later"  # 429/503: wait for Retry-After
    FAILED = "failed"  # anything else: error, timeout, cap exceeded


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one conditional GET of a feed produced."""

    url: str  # the URL that was requested first
    status: FetchStatus
    http_status: int | None = None
    final_url: str = ""  # where the body came from after redirects
    permanent_url: str | None = None  # set when a 301/308 chain moved the feed
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None  # seconds, already capped
    max_age: float | None = None  # Cache-Control max-age, seconds
    error: str | None = None  # short, secret-free description of a failure
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class Article:
    """One feed entry as plain, bounded text. ``entry_key`` is its identity within its feed;
    ``link_key`` (the normalized link) is its identity across feeds."""

    feed_url: str
    entry_key: str
    link: str | None
    link_key: str | None
    title: str
    summary: str = ""
    content: str = ""
    published: datetime | None = None  # aware UTC
    author: str = ""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed document."""

    title: str
    articles: tuple[Article, ...]
    link: str | None = None
    ttl: float | None = None  # RSS <ttl>, seconds
    version: str = ""  # feedparser's version string, e.g. "rss20", "atom10", "json1"
    warning: str | None = None  # a problem that did not stop parsing (e.g. a wrong charset)


@dataclass(frozen=True, slots=True)
class StorySignature:
    """The LSH keys of an article's text (made by ``cluster``): two articles that share a
    key are candidates for being one story, which ``cluster`` then decides on their
    fingerprints (opaque bytes the store keeps: the hashed features the rule compares)."""

    keys: tuple[int, ...]  # signed 64-bit; empty when the text is too short to be judged
    fingerprint: bytes = b""  # empty with the keys


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a watch term in an article field (offsets in that field's text)."""

    term: str  # the term as the watch wrote it (a variant, for @groups)
    field: str  # "title", "summary" or "content"
    start: int
    end: int
    text: str  # the text that matched
    group: str | None = None  # the @group the term came from, if any


@dataclass(frozen=True, slots=True)
class Match:
    """A watch that matched an article, with the hits that made it match."""

    watch: str
    hits: tuple[Hit, ...]
    snippet: str = ""


@dataclass(frozen=True, slots=True)
class FeedRef:
    """A feed as an alert names it."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Sighting:
    """Another copy of the alerted article or story, seen in some feed."""

    title: str
    url: str | None
    feed: FeedRef


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert for one watch and one story, ready to be rendered for any destination."""

    id: str  # stable: the same on every retry and after restarts
    watch: str
    article: Article
    feed: FeedRef
    matched: tuple[Hit, ...]
    snippet: str
    created_at: datetime
    also: tuple[Sighting, ...] = field(default_factory=tuple)
    thread_id: str | None = None  # id of the first alert on the same story, for threading
    kind: str = "article"  # "article", or "health" for a feed-health notice (no matches)


class DeliveryState(enum.StrEnum):
    """Where one (alert, destination) pair stands."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Digest:
    """Several alerts of one watch sent to one destination as one message. ``id`` is the
    message's stable identity (its Idempotency-Key / Message-ID), kept across retries."""

    id: str
    watch: str
    alerts: tuple[Alert, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """A newswatch process at work on a feed (a poll) or a delivery (a send): its claim in
    the database, held from ``since`` and renewed while the work runs until it is released
    with the outcome; past ``expires`` (the process died) anyone may take it over."""

    pid: int
    host: str
    since: datetime
    expires: datetime

    def who(self) -> str:
        """``pid 123 on host h``."""
        return f"pid {self.pid} on host {self.host}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert owed to one destination: a row of the outbox. ``unit`` is the message it
    was last offered in (the alert id when sent alone, a digest id when in a digest): once
    set, a retry sends the same message again, under the same key."""

    id: int
    alert: Alert
    destination: str
    state: DeliveryState
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    unit: str | None = None
    created_at: datetime | None = None
    claim: Claim | None = None  # a process sending it now (or that died sending it)


@dataclass(frozen=True, slots=True)
class SendWindow:
    """A destination's recent sends as its ``rate`` counts them, by every process on the
    database: ``sends``, their start times (oldest first), and ``version``, how many
    sends were ever recorded. A send is recorded only if the version is still the one
    its process read, so the window a process decided on is the one it adds to."""

    version: int = 0
    sends: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class DestinationState:
    """What the outbox remembers about one destination: a destination that failed is
    paused as a whole until ``paused_until``, its wait growing with ``failures``; its
    recent sends (``window``) for its rate."""

    name: str
    failures: int = 0  # consecutive failed attempts
    paused_until: datetime | None = None
    last_error: str | None = None
    last_success_at: datetime | None = None
    window: SendWindow = SendWindow()


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store remembers about one configured feed."""

    url: str  # as configured: the feed's identity
    current_url: str  # where to fetch it now (after permanent redirects)
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    last_status: int | None = None
    error_streak: int = 0
    last_error: str | None = None
    next_poll_at: datetime | None = None  # when the interval says to poll again
    backoff_until: datetime | None = None  # no poll before this (Retry-After, error backoff)
    failing_since: datetime | None = None  # start of the current error streak
    items_seen: int = 0
    gone: bool = False
    warning: str | None = None  # what the last successful poll found wrong (e.g. its charset)
    health: str | None = None  # the feed health last announced (health.Health; None: ok)
    claim: Claim | None = None  # a process polling it now (or that died polling it)
