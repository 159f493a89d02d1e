"""Grouping quality on the labelled set in tests/data/stories/: no two different stories
are ever merged, and most copies find their story."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from newswatch.cluster import DEFAULT_THRESHOLD
from support.stories import (
    Labelled,
    group_in_store,
    hard_negative_pairs,
    is_existing,
    load_all,
    score,
    spun_copies,
)

# Measured in every order (file, reversed, spun first, shuffled; README, "Stories"):
# existing set R 0.975, spun copies 71/71. The floors leave room for a miss or two.
RECALL_FLOOR = 0.96  # issue 13 asks 0.94 on the existing set
SPUN_FLOOR = 0.97  # issue 13 asks 0.95 on copies with 20-30 % of their words swapped
SHUFFLES = (3, 7, 11)  # seeds of the random orders


def test_labelled_set_is_big_and_varied() -> None:
    """At least 30 stories, and every kind of copy the README names is in it."""
    items = load_all()
    assert len({i.story for i in items}) >= 30
    kinds = {i.kind for i in items}
    assert {"wire", "retitled", "truncated", "boilerplate", "swapped", "edited"} <= kinds
    assert {"negative", "follow-up"} <= {i.role for i in items}


@pytest.mark.parametrize("seed", [None, *SHUFFLES])
def test_grouping_is_precise_with_good_recall(
    tmp_path: Path, seed: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the real store: precision 1.0 (no hard negative merged), recall above the
    floor, in file order and in a shuffled order; the figures are printed."""
    items = load_all()
    if seed is not None:
        random.Random(seed).shuffle(items)
    scores = score(items, group_in_store(items, tmp_path / "nw.db", DEFAULT_THRESHOLD))
    kinds = ", ".join(f"{k} {j}/{n}" for k, (j, n) in sorted(scores.kinds.items()))
    with capsys.disabled():
        print(
            f"\nstories (threshold {DEFAULT_THRESHOLD}, order {seed or 'as filed'}): "
            f"precision {scores.precision:.3f}, recall {scores.recall:.3f}; {kinds}"
        )
    assert scores.false_merges == []
    assert scores.recall >= RECALL_FLOOR


def arrival(order: str, base: list[Labelled]) -> list[Labelled]:
    """The whole set with spun copies in the arrival order named ``order``."""
    spun = spun_copies(base)
    if order.startswith("shuffled "):
        items = base + spun
        random.Random(int(order.split()[1])).shuffle(items)
        return items
    return {
        "as filed": base + spun,
        "spun first": spun + base,
        "reversed": list(reversed(base + spun)),
    }[order]


@pytest.mark.parametrize(
    "order", ["as filed", "spun first", "reversed", *(f"shuffled {s}" for s in SHUFFLES)]
)
def test_spun_copies_join_and_hard_negatives_stay_apart(
    tmp_path: Path, order: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole set with spun copies (20, 25 and 30 % of words swapped by the spinner),
    hand-made paraphrases and the same-day hard negatives, in any order (originals before
    their copies, after them, at random: copies that are each like the original but not
    like each other and arrive first merge when it comes): no false merge anywhere, spun
    copies find their story, and the existing set loses nothing."""
    items = arrival(order, load_all())
    groups = group_in_store(items, tmp_path / "nw.db", DEFAULT_THRESHOLD)
    scores = score(items, groups)
    pairs, merged = hard_negative_pairs(items, groups)
    old = [(i, g) for i, g in zip(items, groups, strict=True) if is_existing(i)]
    existing = score([i for i, _ in old], [g for _, g in old])
    joined, spun = scores.kinds["spun"]
    with capsys.disabled():
        print(
            f"\nstories + spun ({len(items)} articles, order {order}): precision "
            f"{scores.precision:.3f}, recall {scores.recall:.3f}; spun {joined}/{spun}, "
            f"paraphrased {scores.kinds['paraphrased']}, hard-negative pairs {pairs} "
            f"merged {merged}; existing set P {existing.precision:.3f} R {existing.recall:.3f}"
        )
    assert scores.false_merges == [] and merged == 0
    assert spun >= 60 and joined / spun >= SPUN_FLOOR
    assert existing.precision == 1.0 and existing.recall >= RECALL_FLOOR
