"""The stories tables: stories, the LSH index of recent articles' signatures, and the
bounded search for a new article's near-duplicate story.

Functions over the shared :class:`~newswatch.store.base.Db`; the writes among them run
inside a transaction the caller (a unit of work) holds.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from newswatch.models import Article, StorySignature
from newswatch.store.base import Db, Row
from newswatch.store.schema import FEED_NAME, article_from_row, from_iso, hits_json, iso
from newswatch.store.values import PendingAlert, StoryCopy, StoryRules


@dataclass(frozen=True, slots=True)
class Near:
    """A story a new article is a copy of: its closest candidate there, and how close."""

    story: int
    like: int  # the article id of the closest candidate in that story
    score: float


@dataclass(frozen=True, slots=True)
class Join:
    """The story a new article joins, the article it was found like, and why; and the
    younger stories it is a copy of too, which the story it joins absorbs."""

    story: int  # the oldest of the stories it is a copy of
    like: int  # the article id of the closest candidate (in any of them)
    signal: str  # cluster's signal: shingles, lede, anchors ("similar" when not told)
    score: float
    absorbs: tuple[Near, ...] = ()  # the other stories it is a copy of, oldest first


def story_of(db: Db, signature: StorySignature, rules: StoryRules, now: datetime) -> Join | None:
    """The story of the recent near-duplicates of the article of ``signature``
    (candidates: the articles seen within the window that share the most LSH keys
    with it), if any; marks that story as seen now.

    Every story with a near-duplicate among the candidates counts, not just the
    closest: an article that is a copy of articles in two stories (two rewrites, each
    like the original but not like each other, that arrived before it) joins the
    oldest, which absorbs the others (``Join.absorbs``), so the grouping does not
    depend on the order copies arrive in. Candidates are ranked by shared keys and at
    most ``max_candidates`` are compared; once a story has a near-certain match its
    other candidates are passed over: a feed of a thousand identical texts must not
    cost a thousand comparisons per article (the store thread serves everything).
    Each comparison reads only the candidate's stored fingerprint, never its text."""
    found: dict[int, tuple[Near, bytes]] = {}
    for row in _candidates(db, signature.keys, rules, now):
        story = int(row["story_id"])
        if story in found and found[story][0].score >= rules.certain:
            continue
        # NULL: indexed before m007. Made from the stored text (once), not skipped, so
        # copies of stories seen just before an upgrade still find them.
        old = row["fingerprint"] or _fingerprint_of(db, row["article_id"], rules)
        if old is None:
            continue
        score = rules.same(signature.fingerprint, old)
        if score > 0 and (story not in found or score > found[story][0].score):
            found[story] = (Near(story, int(row["article_id"]), score), old)
    if not found:
        return None
    oldest, *younger = sorted(found)
    best, old_best = max(found.values(), key=lambda f: (f[0].score, -f[0].story))
    db.execute("UPDATE stories SET last_seen_at = ? WHERE id = ?", [iso(now), oldest])
    signal = rules.why(signature.fingerprint, old_best)[0] if rules.why else "similar"
    absorbs = tuple(found[s][0] for s in younger)
    return Join(oldest, best.like, signal, best.score, absorbs)


def _candidates(db: Db, keys: tuple[int, ...], rules: StoryRules, now: datetime) -> list[Row]:
    """The articles seen within the window that share the most LSH keys with ``keys``
    (at most ``max_candidates``), most shared first, with their fingerprints and stories."""
    # Each key contributes only its most recent holders: a key shared by thousands
    # of articles (a feed of identical texts) must not make the lookup a scan.
    per_key = " UNION ALL ".join(
        "SELECT * FROM (SELECT article_id FROM story_keys WHERE key = ?"
        " ORDER BY article_id DESC LIMIT ?) k"
        for _ in keys
    )
    return db.query(
        "SELECT c.article_id, s.fingerprint, a.story_id FROM ("
        f"  SELECT h.article_id, COUNT(*) AS shared FROM ({per_key}) h"
        "   JOIN story_index s ON s.article_id = h.article_id WHERE s.seen_at >= ?"
        "   GROUP BY h.article_id ORDER BY shared DESC, h.article_id DESC LIMIT ?"
        ") c JOIN story_index s ON s.article_id = c.article_id"
        " JOIN articles a ON a.id = c.article_id"
        " ORDER BY c.shared DESC, c.article_id DESC",
        [
            *(v for key in keys for v in (key, rules.per_key)),
            iso(now - rules.window),
            rules.max_candidates,
        ],
    )


def record_join(db: Db, article_id: int, join: Join) -> None:
    """Keep on the article why it joined its story (``alerts --story`` shows it)."""
    db.execute(
        "UPDATE articles SET joined_by = ?, joined_score = ?, joined_to = ? WHERE id = ?",
        [join.signal, round(join.score, 3), join.like, article_id],
    )


def prefer_earliest(
    db: Db, story: int, article_id: int, published: datetime | None, pending: PendingAlert
) -> bool:
    """SPEC §4: while no delivery of the story's alert for ``pending``'s watch has been
    attempted or put in a message, a copy published earlier than the one it carries
    (an article without a date never is) becomes the copy it carries, with its own
    match; the one it carried becomes an "also". Whether it did."""
    if published is None:
        return False
    cursor = db.execute(
        "UPDATE alerts SET article_id = ?, matched = ?, snippet = ?"
        " WHERE watch = ? AND story_id = ? AND article_id IS NOT NULL"
        " AND COALESCE((SELECT a.published FROM articles a WHERE a.id = alerts.article_id),"
        "     '9999') > ?"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id"
        "     AND (d.state != 'pending' OR d.attempts > 0 OR d.unit IS NOT NULL))",
        [
            article_id,
            hits_json(pending.match.hits),
            pending.match.snippet,
            pending.match.watch,
            story,
            iso(published),
        ],
    )
    return cursor.rowcount > 0


def _fingerprint_of(db: Db, article_id: int, rules: StoryRules) -> bytes | None:
    """The fingerprint of an article indexed before there were fingerprints (m007),
    made from its stored text and kept, so it costs a tokenization once, not at every
    lookup; None (the candidate is passed over) when ``rules`` cannot make one."""
    if rules.fingerprint is None:
        return None
    row = db.one(
        "SELECT a.*, f.url AS feed_url FROM articles a JOIN feeds f ON f.id = a.feed_id"
        " WHERE a.id = ?",
        [article_id],
    )
    if row is None:
        return None
    made = rules.fingerprint(article_from_row(row))
    db.execute("UPDATE story_index SET fingerprint = ? WHERE article_id = ?", [made, article_id])
    return made


def new_story(db: Db, now: datetime) -> int:
    """Start a story of its own (an article that is a copy of no recent one)."""
    return db.insert(
        "INSERT INTO stories (created_at, last_seen_at) VALUES (?, ?)", [iso(now), iso(now)]
    )


def index(
    db: Db, article_id: int, signature: StorySignature, now: datetime, key_format: int
) -> None:
    """Index a new article's signature, so later copies within the window find its story;
    ``key_format`` is the version of ``cluster``'s keys that made it."""
    keys = signature.keys
    db.execute(
        "INSERT INTO story_index (article_id, seen_at, keys, fingerprint, key_format)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            article_id,
            iso(now),
            _packed(keys),
            signature.fingerprint or None,  # NULL: made from the text if ever needed
            key_format,
        ],
    )
    db.executemany(
        "INSERT INTO story_keys (key, article_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(key, article_id) for key in keys],
    )


def _packed(keys: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(keys)}q", *keys)


def _unpacked(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(data) // 8}q", data)


def stale(db: Db, key_format: int, limit: int) -> list[tuple[int, Article]]:
    """Up to ``limit`` indexed articles whose keys another version of ``cluster`` made
    (not ``key_format``), with their stored text, so that they can be keyed again: a
    copy arriving after an upgrade must still find the stories of the window."""
    rows = db.query(
        "SELECT a.*, f.url AS feed_url FROM story_index s"
        " JOIN articles a ON a.id = s.article_id JOIN feeds f ON f.id = a.feed_id"
        " WHERE s.key_format != ? ORDER BY s.article_id LIMIT ?",
        [key_format, limit],
    )
    return [(int(row["id"]), article_from_row(row)) for row in rows]


def rekey(db: Db, key_format: int, keys: Mapping[int, Sequence[int]]) -> int:
    """Replace the LSH keys of indexed articles (by article id) with ``keys``, made by
    version ``key_format``; the fingerprints stay. How many rows changed."""
    changed = 0
    for article_id, new in keys.items():
        row = db.one(
            "SELECT keys FROM story_index WHERE article_id = ? AND key_format != ?",
            [article_id, key_format],
        )
        if row is None:  # pruned meanwhile, or keyed again by another process
            continue
        db.executemany(
            "DELETE FROM story_keys WHERE key = ? AND article_id = ?",
            [(key, article_id) for key in _unpacked(row["keys"])],
        )
        db.execute(
            "UPDATE story_index SET keys = ?, key_format = ? WHERE article_id = ?",
            [_packed(new), key_format, article_id],
        )
        db.executemany(
            "INSERT INTO story_keys (key, article_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(key, article_id) for key in new],
        )
        changed += 1
    return changed


def prune_index(db: Db, cutoff: datetime, limit: int) -> int:
    """Forget the keys of up to ``limit`` articles seen before ``cutoff``: the index
    holds only the window, so a lookup costs the same after a year as after a day."""
    rows = db.query(
        "SELECT article_id, keys FROM story_index WHERE seen_at < ? ORDER BY seen_at LIMIT ?",
        [iso(cutoff), limit],
    )
    for row in rows:
        db.executemany(
            "DELETE FROM story_keys WHERE key = ? AND article_id = ?",
            [(key, row["article_id"]) for key in _unpacked(row["keys"])],
        )
    db.executemany(
        "DELETE FROM story_index WHERE article_id = ?", [(r["article_id"],) for r in rows]
    )
    return len(rows)


def delete_empty(db: Db, before: datetime) -> None:
    """Delete the stories no article belongs to any more (after pruning); one another
    absorbed is kept until ``before`` (so its number still finds the story it went into)."""
    db.execute(
        "DELETE FROM stories WHERE NOT EXISTS"
        " (SELECT 1 FROM articles a WHERE a.story_id = stories.id)"
        " AND (merged_into IS NULL OR merged_at < ?)",
        [iso(before)],
    )


def copies(db: Db, story_or_alert: str) -> list[StoryCopy]:
    """The copies of a story (by story number, or by the id of an alert on it), in the
    order they were seen, each with why it joined and which alerts carry it. The number
    of a story another absorbed gives the copies of that one (the first copy of the
    absorbed story "joined" by ``merged``, with the copy that merged them)."""
    row = db.one("SELECT story_id FROM alerts WHERE id = ?", [story_or_alert])
    if row is None and story_or_alert.isdigit():  # a story absorbed by another: that one
        row = db.one(
            "SELECT COALESCE(merged_into, id) AS story_id FROM stories WHERE id = ?",
            [int(story_or_alert)],
        )
    story = row["story_id"] if row else story_or_alert
    rows = db.query(
        f"SELECT a.*, f.url AS feed_url, {FEED_NAME},"
        " (SELECT group_concat(al.watch, ',') FROM alerts al WHERE al.article_id = a.id)"
        " AS watches FROM articles a JOIN feeds f ON f.id = a.feed_id"
        " WHERE a.story_id = ? ORDER BY a.seen_at, a.id",
        [story],
    )
    return [
        StoryCopy(
            id=int(r["id"]),
            title=r["title"] or "",
            link=r["link"],
            feed=r["feed_title"],
            published=from_iso(r["published"]),
            seen_at=from_iso(r["seen_at"]),
            joined_by=r["joined_by"] or "",
            joined_score=r["joined_score"],
            joined_to=r["joined_to"],
            alerts=tuple(sorted((r["watches"] or "").split(","))) if r["watches"] else (),
        )
        for r in rows
    ]
