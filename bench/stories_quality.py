"""Precision and recall of story grouping on the labelled set, by kind of copy and by
arrival order, for one threshold or several.

    .venv/bin/python bench/stories_quality.py [--shuffles 10] [--thresholds 0.5]

Runs tests/data/stories/ with the spinner's copies (tests/support/stories.py, as
tests/test_stories_quality.py does) through a real Store, one article per poll, in file
order, reversed, spun copies first, and in ``--shuffles`` random orders (seeds 0, 1, ...),
and prints for each threshold a table: precision and recall by kind of copy
(verbatim/edited, spun, paraphrased), hard-negative pairs merged, the existing set's and
the whole set's pairwise precision and recall; for the shuffled orders the median and
the worst. Used to choose the default threshold and to check that grouping does not
depend on the order copies arrive in.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from newswatch.cluster import DEFAULT_THRESHOLD
from support.stories import (
    Labelled,
    by_kind,
    group_in_store,
    hard_negative_pairs,
    is_existing,
    load_all,
    score,
    spun_copies,
)

Figures = dict[str, float]


def measure(items: list[Labelled], path: Path, threshold: float) -> Figures:
    """Every figure of the table for one arrival order."""
    groups = group_in_store(items, path, threshold)
    figures: Figures = {}
    for kind, s in by_kind(items, groups).items():
        figures[f"{kind} P"] = s.precision
        figures[f"{kind} R"] = s.recall
    pairs, merged = hard_negative_pairs(items, groups)
    figures["hard negatives: pairs merged"] = merged
    figures["hard negatives P"] = 1 - merged / pairs if pairs else 1.0
    old = [(i, g) for i, g in zip(items, groups, strict=True) if is_existing(i)]
    existing = score([i for i, _ in old], [g for _, g in old])
    whole = score(items, groups)
    figures |= {
        "existing set P": existing.precision,
        "existing set R": existing.recall,
        "all P": whole.precision,
        "all R": whole.recall,
    }
    return figures


def orders(items: list[Labelled], spun: list[Labelled], shuffles: int) -> dict[str, list[Labelled]]:
    """The arrival orders: named ones, then ``shuffles`` seeded random ones."""
    named = {
        "file": items + spun,
        "reversed": list(reversed(items + spun)),
        "spun first": spun + items,
    }
    for seed in range(shuffles):
        shuffled = items + spun
        random.Random(seed).shuffle(shuffled)
        named[f"seed {seed}"] = shuffled
    return named


def table(results: dict[str, Figures]) -> None:
    """Rows: the figures; columns: the named orders, then median and worst of the seeds."""
    named = [n for n in results if not n.startswith("seed ")]
    seeds = [results[n] for n in results if n.startswith("seed ")]
    head = [*named, "shuffled median", "shuffled worst"] if seeds else named
    print(f"  {'':<30}" + "".join(f"{h:>16}" for h in head))
    for row in next(iter(results.values())):
        worst: Callable[..., float] = max if row.endswith("merged") else min
        cells = [results[n][row] for n in named]
        if seeds:
            values = [s[row] for s in seeds]
            cells += [statistics.median(values), worst(values)]
        shown = "".join(f"{c:>16.0f}" if row.endswith("merged") else f"{c:>16.3f}" for c in cells)
        print(f"  {row:<30}{shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shuffles", type=int, default=10, help="random orders (seeds 0..N-1)")
    parser.add_argument("--thresholds", default=str(DEFAULT_THRESHOLD))
    args = parser.parse_args()
    items = load_all()
    spun = spun_copies(items)
    print(
        f"{len(items)} articles in {len({i.story for i in items})} stories,"
        f" and {len(spun)} spun copies"
    )
    for threshold in (float(t) for t in args.thresholds.split(",")):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            results = {
                name: measure(order, Path(tmp) / f"{n}.db", threshold)
                for n, (name, order) in enumerate(orders(items, spun, args.shuffles).items())
            }
        took = time.perf_counter() - started
        print(f"threshold {threshold:.2f} ({len(results)} orders, {took:.1f} s):")
        table(results)


if __name__ == "__main__":
    main()
