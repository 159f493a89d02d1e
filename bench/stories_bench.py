"""Cost per article of story grouping with 100,000 stories in the window.

    .venv/bin/python bench/stories_bench.py [--stories 100000] [--probe 1000]

Fills a fresh SQLite store with synthetic stories (words drawn from a Zipf-like vocabulary
with English function words on top, 120-600 words each), all seen within the 72 h window,
through the same Store.commit_poll + StoryRules path the pipeline uses. Then, with the index
full, records new unrelated articles and copies of stored ones (retitled, boilerplate added)
one per poll — and halves of new ones (each a copy of the whole, not of the other: a
story each), then copies of those wholes, each of which merges the two stories — and
prints: signature time, store time (lookup + verification + insert, merges),
candidates per lookup, how many copies joined their story, the time to reopen the store,
and the database size. Figures go to standard output; nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from newswatch import cluster
from newswatch.models import Article
from newswatch.store import FeedUpdate, SQLiteStore, StoryRules

FUNCTION_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "was",
    "with",
    "said",
    "he",
    "it",
    "as",
    "at",
    "by",
    "from",
    "his",
    "be",
    "have",
    "has",
    "but",
    "not",
    "are",
    "an",
    "this",
    "they",
    "were",
    "had",
    "been",
    "their",
    "which",
    "will",
    "would",
    "its",
    "after",
    "who",
    "more",
    "also",
    "two",
    "new",
    "one",
    "year",
    "over",
    "than",
    "about",
    "up",
    "into",
    "out",
    "last",
    "other",
    "first",
    "people",
]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)


def vocabulary(rng: random.Random, size: int = 40_000) -> tuple[list[str], list[float]]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = list(FUNCTION_WORDS)
    while len(words) < size:
        words.append("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    weights = [1.0 / (rank + 1) for rank in range(len(words))]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    return words, cumulative


def make_article(rng: random.Random, vocab: tuple[list[str], list[float]], n: int) -> Article:
    words, cumulative = vocab
    body = rng.choices(words, cum_weights=cumulative, k=rng.randint(120, 600))
    text = ". ".join(" ".join(body[i : i + 18]) for i in range(0, len(body), 18))
    link = f"https://outlet{n % 500}.example/story/{n}"
    return Article(
        feed_url=f"https://outlet{n % 500}.example/rss",
        entry_key=link,
        link=link,
        link_key=link,
        title=" ".join(rng.choices(words, cum_weights=cumulative, k=8)),
        content=text,
    )


def rules(articles: list[Article]) -> StoryRules:
    return StoryRules(
        signatures={a.entry_key: cluster.signature(a) for a in articles},
        window=WINDOW,
        same=partial(cluster.same, threshold=cluster.DEFAULT_THRESHOLD),
    )


def fill(store: SQLiteStore, articles: list[Article], batch: int = 500) -> None:
    span = WINDOW - timedelta(hours=2)
    started = time.perf_counter()
    for start in range(0, len(articles), batch):
        chunk = articles[start : start + batch]
        at = NOW - span + span * (start / len(articles))
        store.commit_poll(
            "https://bench.example/rss", FeedUpdate(success=True), chunk, {}, at, rules(chunk)
        )
        done = start + len(chunk)
        if done % 20_000 == 0 or done == len(articles):
            rate = (time.perf_counter() - started) / done * 1000
            print(f"  filled {done:>7,} stories: {rate:.2f} ms per article so far")


def probe(store: SQLiteStore, articles: list[Article], label: str) -> None:
    """Record each article in its own poll; print the cost split and the outcome."""
    counted: list[int] = []
    base_same = partial(cluster.same, threshold=cluster.DEFAULT_THRESHOLD)

    def same(a: bytes, b: bytes) -> float:
        counted[-1] += 1
        return base_same(a, b)

    wall = [0.0, 0.0]  # signature, store
    cpu = [0.0, 0.0]  # the same in CPU time: steadier than wall time on a shared machine
    joined = 0
    for article in articles:
        t0, c0 = time.perf_counter(), time.process_time()
        signature = cluster.signature(article)
        t1, c1 = time.perf_counter(), time.process_time()
        counted.append(0)
        r = StoryRules({article.entry_key: signature}, WINDOW, same)
        before = store.db.execute("SELECT MAX(id) FROM stories").fetchone()[0]
        t2, c2 = time.perf_counter(), time.process_time()
        store.commit_poll(article.feed_url, FeedUpdate(success=True), [article], {}, NOW, r)
        t3, c3 = time.perf_counter(), time.process_time()
        after = store.db.execute("SELECT MAX(id) FROM stories").fetchone()[0]
        joined += after == before
        wall = [wall[0] + t1 - t0, wall[1] + t3 - t2]
        cpu = [cpu[0] + c1 - c0, cpu[1] + c3 - c2]
    n = len(articles)
    ms = [
        f"{w / n * 1000:6.3f} ms (CPU {c / n * 1000:6.3f})" for w, c in zip(wall, cpu, strict=True)
    ]
    print(
        f"  {label:<28} signature {ms[0]}, store {ms[1]} per article;"
        f" candidates per lookup {sum(counted) / n:.2f}; joined a story {joined}/{n}"
    )


def copy_of(article: Article, n: int) -> Article:
    link = f"https://copy{n}.example/story/{n}"
    return Article(
        feed_url=f"https://copy{n % 50}.example/rss",
        entry_key=link,
        link=link,
        link_key=link,
        title="Retitled: " + article.title,
        content="Breaking news\n" + article.content + "\nShare this article\nSource link",
    )


def halves(article: Article, n: int) -> tuple[Article, Article]:
    """The first and the last 60 % of ``article``'s words as two outlets' copies: each is
    like the whole text, not like the other (a fifth of the text in common), so they begin
    a story each and a copy of the whole text merges them."""
    words = article.content.split()
    cut = len(words) * 3 // 5
    parts = (" ".join(words[:cut]), " ".join(words[-cut:]))
    out = []
    for side, text in zip("ab", parts, strict=True):
        link = f"https://half{side}{n}.example/story/{n}"
        out.append(replace(article, entry_key=link, link=link, link_key=link, content=text))
    return out[0], out[1]


def live_stories(store: SQLiteStore) -> int:
    """How many stories no other absorbed (all of them, for a newswatch before merges)."""
    merges = "merged_into" in store.db["stories"].columns_dict
    where = " WHERE merged_into IS NULL" if merges else ""
    return int(store.db.execute(f"SELECT COUNT(*) FROM stories{where}").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--probe", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(1)
    vocab = vocabulary(rng)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        stored = [make_article(rng, vocab, n) for n in range(args.stories)]
        print(f"generated {len(stored):,} stories in {time.perf_counter() - t0:.1f} s")
        store = SQLiteStore(path)
        fill(store, stored)
        store.close()
        t0 = time.perf_counter()
        store = SQLiteStore(path)
        store.db.execute("SELECT COUNT(*) FROM story_keys").fetchone()
        print(
            f"reopening the store (nothing to rebuild): {(time.perf_counter() - t0) * 1000:.0f} ms"
        )
        keys = store.db.execute("SELECT COUNT(*) FROM story_keys").fetchone()[0]
        indexed = store.db.execute("SELECT COUNT(*) FROM story_index").fetchone()[0]
        print(f"index: {indexed:,} articles in the window, {keys:,} keys")
        print(f"with {args.stories:,} stories in the window, one article per poll:")
        fresh = [make_article(rng, vocab, args.stories + n) for n in range(args.probe)]
        probe(store, fresh, "new, unrelated stories")
        copies = [copy_of(a, n) for n, a in enumerate(rng.sample(stored, args.probe))]
        probe(store, copies, "copies of stored stories")
        wholes = [make_article(rng, vocab, 2 * args.stories + n) for n in range(args.probe)]
        probe(store, [h for n, a in enumerate(wholes) for h in halves(a, n)], "halves of new ones")
        merges = [copy_of(a, args.probe + n) for n, a in enumerate(wholes)]
        before = live_stories(store)
        probe(store, merges, "their wholes (merge two)")
        print(f"  stories merged away: {before - live_stories(store):,} of {args.probe:,}")
        store.close()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        print(f"database size: {size / 1e6:.0f} MB ({size / args.stories:.0f} bytes per story)")


if __name__ == "__main__":
    main()
