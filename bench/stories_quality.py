"""Precision and recall of story grouping on the labelled set, for several thresholds.

    .venv/bin/python bench/stories_quality.py [--orders 5]

Runs tests/data/stories/ through a real Store (as tests/test_stories_quality.py does) in
file order and in shuffled orders, and prints pairwise precision and recall per threshold
and which copies of each kind found their story. Used to choose the default threshold.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.stories import group_in_store, load_all, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=5, help="shuffled orders besides file order")
    parser.add_argument("--thresholds", default="0.35,0.4,0.45,0.5,0.55,0.6,0.7")
    args = parser.parse_args()
    items = load_all()
    print(f"{len(items)} articles in {len({i.story for i in items})} stories")
    orders = [list(items)]
    for seed in range(args.orders):
        shuffled = list(items)
        random.Random(seed).shuffle(shuffled)
        orders.append(shuffled)
    for threshold in (float(t) for t in args.thresholds.split(",")):
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for n, order in enumerate(orders):
                results.append(
                    score(order, group_in_store(order, Path(tmp) / f"{n}.db", threshold))
                )
        precision = min(r.precision for r in results)
        recalls = [r.recall for r in results]
        merges = sum(len(r.false_merges) for r in results)
        kinds = ", ".join(f"{k} {j}/{n}" for k, (j, n) in sorted(results[0].kinds.items()))
        print(
            f"threshold {threshold:.2f}: precision min {precision:.3f} ({merges} false pairs), "
            f"recall {min(recalls):.3f}-{max(recalls):.3f}; file order: {kinds}"
        )


if __name__ == "__main__":
    main()
