"""The store's own frozen values: what callers pass in (``FeedUpdate``, ``PendingAlert``,
``StoryRules``, ``HealthRules``, ``HealthNotice``, ``Instance``) and what it hands back
(``PollRecord``, ``PruneReport``, ``StoredArticle``, ``FeedClaim``). Kept apart from the
SQL so the protocol, every table group and every engine can name them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from newswatch.models import Article, FeedRef, FeedState, Match, SendWindow, StorySignature


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What one poll of a feed changes in its state. ``None`` fields are left as they are."""

    success: bool
    status: int | None = None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    current_url: str | None = None
    title: str | None = None
    next_poll_at: datetime | None = None
    backoff_until: datetime | None = None
    gone: bool = False
    parsed: bool = False  # a document was parsed: ``warning`` replaces the last warning
    warning: str | None = None
    poller: str | None = None  # the instance that polled: its claim on the feed ends here


@dataclass(frozen=True, slots=True)
class Instance:
    """One newswatch process working on the database: a random id of its own (a pid can
    be reused), its pid and host for people, and when it started."""

    id: str
    pid: int
    host: str
    started_at: datetime | None = None
    expires_at: datetime | None = None  # running until then, unless it renews

    def who(self) -> str:
        """``pid 123 on host h``."""
        return f"pid {self.pid} on host {self.host}"


@dataclass(frozen=True, slots=True)
class FeedClaim:
    """The outcome of claiming a feed for a poll: the feed's state; whether the claim was
    taken; if not, the other instance polling it right now (``holder``) or that polled it
    within its interval (``polled_by``), else the state says why (gone, backing off)."""

    state: FeedState
    claimed: bool
    holder: Instance | None = None
    polled_by: Instance | None = None


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What :meth:`Store.prune` removed (notices that lost their alert are not counted)."""

    alerts: int = 0  # alerts deleted with their finished deliveries
    tombstoned: int = 0  # articles reduced to their identity keys
    forgotten: int = 0  # tombstones deleted: not seen in any feed for the retention period


@dataclass(frozen=True, slots=True)
class HealthNotice:
    """A feed-health notice to queue: the watch name it carries, a title and a detail."""

    watch: str
    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A feed's newly decided health, and the notice that announces it (None: recorded
    without a word, e.g. the end of a failure that was never announced)."""

    health: str
    notice: HealthNotice | None = None


@dataclass(frozen=True, slots=True)
class HealthRules:
    """How a commit decides whether a poll changed the feed's health (SPEC ``health:``).

    ``judge`` is given the feed's state as the poll left it, inside the write, and says
    what changed (None: nothing); it is ``newswatch.health``'s rule, passed in because the
    store must not import another stage. A notice is queued for ``notify``, if any.
    """

    judge: Callable[[FeedState], HealthChange | None]
    notify: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """An alert the pipeline wants for a new article: a match and the destinations it owes."""

    match: Match
    destinations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryRules:
    """How :meth:`Store.commit_poll` recognises the same story (SPEC §4).

    ``signatures`` holds the LSH keys and fingerprints of this poll's articles by
    ``entry_key``; ``same`` says whether a new article's fingerprint and a stored
    candidate's are one story (a score above zero, higher is closer). Only articles seen
    within ``window`` are candidates. ``fingerprint`` makes the fingerprint of a candidate
    indexed without one (before migration m007) from its stored text, once; without it
    such candidates are passed over.
    """

    signatures: Mapping[str, StorySignature]
    window: timedelta
    same: Callable[[bytes, bytes], float]
    max_candidates: int = 20  # compared at most, those sharing the most keys first
    certain: float = 0.9  # a score this high ends the search within that story
    per_key: int = 50  # most recent holders of one LSH key considered
    prune: int = 1000  # expired index rows removed per poll, at most
    fingerprint: Callable[[Article], bytes] | None = None  # for rows indexed before m007
    # Why a new fingerprint and its best candidate's are one story: (signal, score), kept
    # on the article for ``alerts --story``; without it the signal is recorded as "similar".
    why: Callable[[bytes, bytes], tuple[str, float]] | None = None
    # The version of the keys in ``signatures`` (``cluster.KEY_FORMAT``), kept with each
    # indexed article: rows of another version are keyed again (``Store.rekey_stories``).
    key_format: int = 0


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What :meth:`Store.commit_poll` (or ``commit_fetch``) did."""

    new_articles: tuple[Article, ...] = ()
    alerts: tuple[str, ...] = ()  # ids of the article alerts created
    deliveries: int = 0
    health: HealthChange | None = None  # the feed's health, when the poll changed it
    notice: str | None = None  # id of the alert that queued the health notice, if any
    alert_watches: tuple[str, ...] = ()  # the watch of each alert in ``alerts``
    merged: tuple[tuple[int, int], ...] = ()  # (absorbed story, the older story it went into)
    cancelled: tuple[str, ...] = ()  # alerts of earlier polls cancelled by those merges


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article read back from the store, with the feed it was first seen in."""

    id: int
    article: Article
    feed: FeedRef
    seen_at: datetime
    story_id: int = 0
    first_fetch: bool = False  # recorded by its feed's first poll that recorded anything


@dataclass(frozen=True, slots=True)
class StoryCopy:
    """One copy of a story as ``alerts --story`` shows it: the article, its feed, and why
    it joined the story (``joined_by`` empty: it began the story)."""

    id: int
    title: str
    link: str | None
    feed: str  # the feed's configured name, else its URL
    published: datetime | None
    seen_at: datetime | None
    joined_by: str = ""
    joined_score: float | None = None
    joined_to: int | None = None
    alerts: tuple[str, ...] = ()  # the watches whose alert on the story carries this copy


@dataclass(frozen=True, slots=True)
class Pace:
    """A send under its destination's ``rate``, as the claim of its message records it:
    the window the sender decided on (``seen``; the claim is refused if another process
    recorded a send since) and how long sends count (the rate's period)."""

    destination: str
    seen: SendWindow
    keep: timedelta


@dataclass(frozen=True, slots=True)
class UnitClaim:
    """The outcome of claiming a message for a send. Claimed: under a ``Pace``, with the
    destination's ``window`` after this send. Refused: ``raced`` when another process
    sent to the destination since the pace's window was read (decide again on
    ``window``, the current one); ``paused_until`` when the destination is paused
    (another process's send failed); else another process sends this message, or it
    changed since the caller read the outbox."""

    claimed: bool
    window: SendWindow | None = None
    raced: bool = False
    paused_until: datetime | None = None
