"""The labelled story set in ``tests/data/stories/``: articles with the story they belong to.

Each YAML file holds a few stories on one subject. A story has a title and a text (its
original, as a wire service would send it) and optionally ``copies``: other outlets'
versions, each written as edits of the original — a new ``title``, whole-word ``swap``s (what
a rewriting tool does), the first ``paragraphs`` only, text put ``before`` or ``after`` it,
or a whole new ``text`` — placed in ``content`` or in ``summary`` (``field``). Every other
copy is flattened to one line, as plain-text feeds deliver it. See the folder's README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newswatch.models import Article

FOLDER = Path(__file__).resolve().parent.parent / "data" / "stories"


@dataclass(frozen=True)
class Labelled:
    """One article of the set and what it is."""

    article: Article
    story: str  # "file:story", the true cluster
    kind: str  # "original", or the copy's kind (wire, retitled, truncated, ...)
    role: str  # the story's role: main, negative or follow-up


def _swap(text: str, swaps: dict[str, str]) -> str:
    if not swaps:
        return text
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, swaps)) + r")(?!\w)")
    return pattern.sub(lambda m: swaps[m.group(1)], text)


def _copy_text(base: str, copy: dict[str, Any]) -> str:
    text = copy.get("text") or base
    paragraphs = [p.strip() for p in text.strip().split("\n\n")]
    if "paragraphs" in copy:
        paragraphs = paragraphs[: copy["paragraphs"]]
    text = _swap(
        "\n\n".join(paragraphs), {str(k): str(v) for k, v in (copy.get("swap") or {}).items()}
    )
    parts = [copy.get("before", ""), text, copy.get("after", "")]
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _article(key: str, n: int, title: str, text: str, field: str, flat: bool) -> Article:
    if flat:
        text = " ".join(text.split())
    return Article(
        feed_url=f"https://outlet{n}.example/feed",
        entry_key=key,
        link=f"https://outlet{n}.example/{key}",
        link_key=f"https://outlet{n}.example/{key}",
        title=title,
        summary=text if field == "summary" else "",
        content=text if field == "content" else "",
    )


def load_file(path: Path) -> list[Labelled]:
    """The articles of one file, originals first, each followed by its copies."""
    data = yaml.safe_load(path.read_text("utf-8"))
    out: list[Labelled] = []
    for name, story in data["stories"].items():
        label = f"{path.stem}:{name}"
        role = story.get("role", "main")
        base = story["text"].strip()
        original = _article(f"{label}:0", 0, story["title"], base, "content", False)
        out.append(Labelled(original, label, "original", role))
        for i, copy in enumerate(story.get("copies") or (), start=1):
            title = copy.get("title") or story["title"]
            field = copy.get("field", "content")
            article = _article(f"{label}:{i}", i, title, _copy_text(base, copy), field, i % 2 == 1)
            out.append(Labelled(article, label, copy["kind"], role))
    return out


def load_all() -> list[Labelled]:
    """Every article of the set, file by file in name order."""
    return [item for path in sorted(FOLDER.glob("*.yaml")) for item in load_file(path)]


SPIN_RATES = (0.20, 0.25, 0.30)
NEW_KINDS = frozenset({"spun", "paraphrased"})  # added with the anchor signal (issue 13)
NEW_FILES = frozenset({"hard_negatives"})


def spun_copies(items: list[Labelled]) -> list[Labelled]:
    """Spun copies of every original of ``items``: one per rate of ``SPIN_RATES``
    (tests/support/spinner.py, seeded by story and rate), from outlets 50 and up, flat;
    only those that the table could spin to within 0.02 of their rate."""
    from support.spinner import spin

    out = []
    for item in items:
        if item.kind != "original":
            continue
        for n, rate in enumerate(SPIN_RATES, start=50):
            spun = spin(item.article.content, rate, f"{item.story}:{rate}")
            if abs(spun.rate - rate) <= 0.02:
                key = f"{item.story}:{n}"
                article = _article(key, n, item.article.title, spun.text, "content", n % 2 == 1)
                out.append(Labelled(article, item.story, "spun", item.role))
    return out


def is_existing(item: Labelled) -> bool:
    """Whether ``item`` was in the set before the anchor signal (the 145 of round two)."""
    return item.kind not in NEW_KINDS and item.story.split(":")[0] not in NEW_FILES


def hard_negative_pairs(items: list[Labelled], groups: list[int]) -> tuple[int, int]:
    """Pairs of different stories on one subject (one file) with at least one side a hard
    negative or follow-up, and how many of them were put in one story."""
    pairs = merged = 0
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            x, y = items[a], items[b]
            if x.story == y.story or x.story.split(":")[0] != y.story.split(":")[0]:
                continue
            if "main" in (x.role, y.role) and x.role == y.role:
                continue
            pairs += 1
            merged += groups[a] == groups[b]
    return pairs, merged


@dataclass(frozen=True)
class Scores:
    """How well a grouping of the set agrees with its labels."""

    precision: float  # of the pairs put in one story, the share that are one story
    recall: float  # of the pairs that are one story, the share put in one
    false_merges: list[tuple[str, str]]  # entry keys of pairs wrongly put together
    kinds: dict[str, tuple[int, int]]  # copy kind -> (joined its original, copies)


def score(items: list[Labelled], groups: list[int]) -> Scores:
    """Pairwise precision and recall of ``groups`` (one predicted story id per item)."""
    tp = fp = fn = 0
    merges = []
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            same, put = items[a].story == items[b].story, groups[a] == groups[b]
            tp, fp, fn = tp + (same and put), fp + (put and not same), fn + (same and not put)
            if put and not same:
                merges.append((items[a].article.entry_key, items[b].article.entry_key))
    original = {i.story: g for i, g in zip(items, groups, strict=True) if i.kind == "original"}
    kinds: dict[str, tuple[int, int]] = {}
    for item, group in zip(items, groups, strict=True):
        if item.kind != "original":
            joined, total = kinds.get(item.kind, (0, 0))
            kinds[item.kind] = (joined + (group == original[item.story]), total + 1)
    precision = tp / (tp + fp) if tp + fp else 1.0
    return Scores(precision, tp / (tp + fn) if tp + fn else 1.0, merges, kinds)


# The kinds of copy the issue measures apart (README, "Stories").
KIND_GROUPS: dict[str, frozenset[str]] = {
    "verbatim/edited": frozenset(
        {"wire", "retitled", "truncated", "boilerplate", "swapped", "edited"}
    ),
    "spun": frozenset({"spun"}),
    "paraphrased": frozenset({"paraphrased"}),
}


@dataclass(frozen=True)
class KindScores:
    """How one group of copy kinds fared."""

    precision: float  # of the pairs put in one story with a copy of the group, the share right
    recall: float  # of the group's copies, the share in their original's story
    copies: int


def by_kind(items: list[Labelled], groups: list[int]) -> dict[str, KindScores]:
    """Precision and recall for each group of ``KIND_GROUPS`` present in ``items``."""
    original = {i.story: g for i, g in zip(items, groups, strict=True) if i.kind == "original"}
    out: dict[str, KindScores] = {}
    for name, kinds in KIND_GROUPS.items():
        members = [n for n, i in enumerate(items) if i.kind in kinds]
        if not members:
            continue
        joined = sum(groups[n] == original[items[n].story] for n in members)
        put = right = 0
        for n in members:
            for m in range(len(items)):
                if m != n and groups[m] == groups[n]:
                    put += 1
                    right += items[m].story == items[n].story
        out[name] = KindScores(right / put if put else 1.0, joined / len(members), len(members))
    return out


def group_in_store(items: list[Labelled], path: Path, threshold: float) -> list[int]:
    """Record the set through a real Store, one article per poll in order, with the
    pipeline's story rules; the story each article ended up in."""
    from datetime import UTC, datetime, timedelta
    from functools import partial

    from newswatch import cluster
    from newswatch.store import FeedUpdate, SQLiteStore, StoryRules

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    store = SQLiteStore(path)
    try:
        for n, item in enumerate(items):
            a = item.article
            rules = StoryRules(
                signatures={a.entry_key: cluster.signature(a)},
                window=timedelta(hours=72),
                same=partial(cluster.same, threshold=threshold),
                why=partial(cluster.why, threshold=threshold),
            )
            at = now + timedelta(minutes=n)
            store.commit_poll(a.feed_url, FeedUpdate(success=True), [a], {}, at, rules)
        rows = store.db.execute("SELECT entry_key, story_id FROM articles").fetchall()
    finally:
        store.close()
    story = dict(rows)
    return [int(story[i.article.entry_key]) for i in items]


def split_pair(original: Article) -> tuple[Article, Article]:
    """Two rewrites of ``original`` from other outlets (61, 62) that a story splits on when
    they arrive before it: its first two paragraphs (a teaser) and a spun copy (25 % of
    its words swapped by the spinner), each a copy of the original but not of each other
    (for the texts of the labelled set; callers check it)."""
    from support.spinner import spin

    teaser = "\n\n".join(original.content.strip().split("\n\n")[:2])
    spun = spin(original.content, 0.25, "split").text
    return (
        _article(f"{original.entry_key}:teaser", 61, original.title, teaser, "content", False),
        _article(f"{original.entry_key}:spun", 62, original.title, spun, "content", False),
    )
