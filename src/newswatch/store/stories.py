"""The stories layer of ``Store``: the LSH index of recent articles' signatures, the
bounded search for a new article's near-duplicate story, and the first alert of a story.
"""

from __future__ import annotations

import struct
from datetime import datetime

from newswatch.models import StorySignature
from newswatch.store.feeds import _FeedStore
from newswatch.store.schema import article_from_row, iso
from newswatch.store.values import StoryRules


class _StoryStore(_FeedStore):
    """Stories: which article joins which story, and the index that makes that cheap."""

    def _story_of(self, signature: StorySignature, rules: StoryRules, now: datetime) -> int | None:
        """The story of the closest recent near-duplicate of the article of ``signature``
        (candidates: the articles seen within the window that share the most LSH keys
        with it), if any; marks that story as seen now.

        Candidates are ranked by shared keys and at most ``max_candidates`` are compared,
        stopping at a near-certain match: a feed of a thousand identical texts must not
        cost a thousand comparisons per article (the store thread serves everything).
        Each comparison reads only the candidate's stored fingerprint, never its text."""
        keys = signature.keys
        # Each key contributes only its most recent holders: a key shared by thousands
        # of articles (a feed of identical texts) must not make the lookup a scan.
        per_key = " UNION ALL ".join(
            "SELECT * FROM (SELECT article_id FROM story_keys WHERE key = ?"
            " ORDER BY article_id DESC LIMIT ?)"
            for _ in keys
        )
        rows = self.db.query(
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
        best, story = 0.0, None
        for row in list(rows):
            # NULL: indexed before m007. Made from the stored text (once), not skipped, so
            # copies of stories seen just before an upgrade still find them.
            old = row["fingerprint"] or self._fingerprint_of(row["article_id"], rules)
            if old is None:
                continue
            score = rules.same(signature.fingerprint, old)
            if score > best:
                best, story = score, int(row["story_id"])
            if best >= rules.certain:
                break
        if story is not None:
            self.db.execute("UPDATE stories SET last_seen_at = ? WHERE id = ?", [iso(now), story])
        return story

    def _fingerprint_of(self, article_id: int, rules: StoryRules) -> bytes | None:
        """The fingerprint of an article indexed before there were fingerprints (m007),
        made from its stored text and kept, so it costs a tokenization once, not at every
        lookup; None (the candidate is passed over) when ``rules`` cannot make one."""
        if rules.fingerprint is None:
            return None
        row = self._one(
            "SELECT a.*, f.url AS feed_url FROM articles a JOIN feeds f ON f.id = a.feed_id"
            " WHERE a.id = ?",
            [article_id],
        )
        if row is None:
            return None
        made = rules.fingerprint(article_from_row(row))
        self.db.execute(
            "UPDATE story_index SET fingerprint = ? WHERE article_id = ?", [made, article_id]
        )
        return made

    def _index_story(self, article_id: int, signature: StorySignature, now: datetime) -> None:
        keys = signature.keys
        self.db.execute(
            "INSERT INTO story_index (article_id, seen_at, keys, fingerprint) VALUES (?, ?, ?, ?)",
            [
                article_id,
                iso(now),
                struct.pack(f"<{len(keys)}q", *keys),
                signature.fingerprint or None,  # NULL: made from the text if ever needed
            ],
        )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO story_keys (key, article_id) VALUES (?, ?)",
            [(key, article_id) for key in keys],
        )

    def _prune_story_index(self, cutoff: datetime, limit: int) -> int:
        """Forget the keys of up to ``limit`` articles seen before ``cutoff``: the index
        holds only the window, so a lookup costs the same after a year as after a day."""
        rows = list(
            self.db.query(
                "SELECT article_id, keys FROM story_index WHERE seen_at < ?"
                " ORDER BY seen_at LIMIT ?",
                [iso(cutoff), limit],
            )
        )
        for row in rows:
            keys = struct.unpack(f"<{len(row['keys']) // 8}q", row["keys"])
            self.db.conn.executemany(
                "DELETE FROM story_keys WHERE key = ? AND article_id = ?",
                [(key, row["article_id"]) for key in keys],
            )
        self.db.conn.executemany(
            "DELETE FROM story_index WHERE article_id = ?", [(r["article_id"],) for r in rows]
        )
        return len(rows)

    def first_alert_of_story(self, story_id: int, *, besides: str = "") -> str | None:
        """The id of the first alert on a story other than ``besides`` (what later alerts
        on the story thread under); None when ``besides`` is itself the first."""
        row = self._one(
            "SELECT id FROM alerts WHERE story_id = ? ORDER BY created_at, rowid LIMIT 1",
            [story_id],
        )
        return str(row["id"]) if row and row["id"] != besides else None
