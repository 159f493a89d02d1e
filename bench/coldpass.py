"""Benchmark (issue 12): a cold and a warm pass of newswatch, rss2email 3.14 and a bare
httpx + feedparser script, side by side in one run, over the same loopback feeds.

500 RSS 2.0 feeds (ETag and Last-Modified, so a second pass is all 304), 20 items each: a
title of ~8 words, a summary of ~60, ``content:encoded`` of ~200 words in ``<p>``; every
text distinct. newswatch: ``first_run: all``, 200 watches of two keywords each, ~2 % of the
items match and alert to a loopback webhook, everything else at its defaults (stories on).
rss2email 3.14 is installed into its own cached venv (``pip install rss2email==3.14``);
its feeds are added with ``r2e add`` and it runs ``r2e run --no-send``. Prints the median
wall time of each pass over ``--runs`` runs, the ratios, and the peak RSS of newswatch's
whole process tree (parent, forkserver and workers, sampled every 50 ms with psutil).

    .venv/bin/python bench/coldpass.py                      # 500 feeds, 3 runs
    .venv/bin/python bench/coldpass.py --feeds 100 --runs 1  # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.feedserver import FeedServer
from support.memory import measured_run_once
from support.receivers import WebhookReceiver

ITEMS = 20
WATCHES = 200
MATCH_SHARE = 0.02
R2E_VERSION = "3.14"
R2E_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / (
    f"newswatch-bench/rss2email-{R2E_VERSION}"
)
NW_VENV = R2E_VENV.parent / "newswatch-user"
LAST_MODIFIED = "Tue, 24 Nov 2026 10:00:00 GMT"
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ar", "en")]

BARE_SCRIPT = textwrap.dedent("""\
    import io, sys, feedparser, httpx
    entries = 0
    with httpx.Client(timeout=30) as client:
        for url in sys.argv[1:]:
            response = client.get(url)
            parsed = feedparser.parse(
                io.BytesIO(response.content), response_headers=dict(response.headers)
            )
            entries += len(parsed.entries)
    print(entries)
""")


# --- the corpus -------------------------------------------------------------------------------


class Words:
    """Made-up words from a fixed seed: a vocabulary for the text and keywords outside it."""

    def __init__(self, seed: int = 12) -> None:
        self.rng = random.Random(seed)
        vocabulary = {self._word(2, 3) for _ in range(6000)}
        self.vocabulary = sorted(vocabulary)
        keywords: set[str] = set()
        while len(keywords) < 2 * WATCHES:
            word = self._word(4, 4)
            if word not in vocabulary:
                keywords.add(word)
        self.keywords = sorted(keywords)

    def _word(self, low: int, high: int) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(low, high)))

    def sentence(self, count: int) -> str:
        return " ".join(self.rng.choice(self.vocabulary) for _ in range(count))


def item_xml(words: Words, feed: int, item: int, keyword: str | None) -> str:
    """One RSS item; ``keyword`` (when given) goes into its summary."""
    title = words.sentence(8).capitalize()
    summary = words.sentence(60)
    if keyword:
        summary = f"{summary} {keyword} {words.sentence(3)}"
    paragraphs = "".join(f"<p>{words.sentence(50)}.</p>" for _ in range(4))
    when = f"{(item % 28) + 1:02d} Nov 2026 {item % 24:02d}:{feed % 60:02d}:00 +0000"
    return (
        f"<item><title>{escape(title)}</title>"
        f"<link>https://news{feed}.example.org/{item}/{title.split()[0]}</link>"
        f"<guid isPermaLink='false'>feed{feed}-item{item}</guid>"
        f"<pubDate>{when}</pubDate><description>{escape(summary)}</description>"
        f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded></item>"
    )


def corpus(feeds: int) -> tuple[list[bytes], list[tuple[str, str]], int]:
    """The feed documents, the watches' keyword pairs, and how many items carry a keyword."""
    words = Words()
    pairs = [(words.keywords[2 * n], words.keywords[2 * n + 1]) for n in range(WATCHES)]
    total = feeds * ITEMS
    rng = random.Random(7)
    matching = set(rng.sample(range(total), max(1, round(total * MATCH_SHARE))))
    documents = []
    for feed in range(feeds):
        items = []
        for item in range(ITEMS):
            index = feed * ITEMS + item
            keyword = rng.choice(rng.choice(pairs)) if index in matching else None
            items.append(item_xml(words, feed, item, keyword))
        documents.append(
            (
                "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
                "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
                f"<title>Feed {feed}</title><link>https://news{feed}.example.org/</link>"
                f"<description>bench feed {feed}</description>{''.join(items)}"
                "</channel></rss>"
            ).encode()
        )
    return documents, pairs, len(matching)


# --- the three contenders ---------------------------------------------------------------------


def newswatch_config(path: Path, urls: list[str], pairs: list[tuple[str, str]], hook: str) -> None:
    feeds = "\n".join(f"  - url: '{url}'" for url in urls)
    watches = "\n".join(
        f"  - name: watch{n}\n    keywords: [{a}, {b}]" for n, (a, b) in enumerate(pairs)
    )
    path.write_text(
        f"database: {path.parent / 'state.db'}\npoll: {{first_run: all, timeout: 60s}}\n"
        f"feeds:\n{feeds}\nwatches:\n{watches}\n"
        f"destinations:\n  - name: hook\n    type: webhook\n    url: '{hook}'\n"
    )


def profile_newswatch(config: Path, out: Path) -> None:
    """One cold ``run --once`` under py-spy (all processes and threads, 100 samples/s,
    idle samples left out), as collapsed stacks in ``out``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    python = newswatch_venv()
    command = [python, "-m", "newswatch", "--config", str(config), "run", "--once"]
    options = ["--subprocesses", "--threads", "--rate", "100", "--format", "raw"]
    subprocess.run(
        [spy, "record", *options, "--output", str(out), "--", *command],
        check=True,
        capture_output=True,
    )
    print(f"collapsed stacks in {out}")
    summarize_profile(out)


# (label, a substring of a frame) in order: the first that a stack contains names it
PROFILE_CATEGORIES = [
    ("imports", "importlib._bootstrap"),
    ("parse: feedparser", "feedparser/"),
    ("parse: HTML -> text", "parse/html.py"),
    ("parse: lxml fast path", "parse/fastxml.py"),
    ("parse: other", "newswatch/parse/"),
    ("story signatures", "newswatch/cluster/"),
    ("matching", "newswatch/match/"),
    ("rensa MinHash", "rensa"),
    ("store", "newswatch/store/"),
    ("fetch (httpx)", "newswatch/fetch/"),
    ("delivery", "pipeline/deliver.py"),
    ("worker IPC (pickle, queues)", "multiprocessing/"),
    ("worker IPC (pickle, queues)", "concurrent/futures/"),
    ("config", "newswatch/config/"),
]


def summarize_profile(out: Path) -> None:
    """Samples by process role and by where they fall (first matching category)."""
    by_role: dict[str, dict[str, int]] = {}
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "_within_budget" in stack:
            role = "workers"
        elif "forkserver" in stack:
            role = "forkserver"
        elif "thread (" in stack and "MainThread" not in stack:
            role = "parent, other threads"
        else:
            role = "parent, main thread"
        label = next((name for name, part in PROFILE_CATEGORIES if part in stack), "other")
        counts = by_role.setdefault(role, {})
        counts[label] = counts.get(label, 0) + int(count)
    total = sum(sum(c.values()) for c in by_role.values())
    print(f"{total} samples (100/s, CPU only) over all processes:")
    for role, counts in sorted(by_role.items(), key=lambda item: -sum(item[1].values())):
        print(f"  {role}: {100 * sum(counts.values()) / total:.0f} %")
        for label, count in sorted(counts.items(), key=lambda item: -item[1]):
            print(f"    {label:32} {100 * count / total:5.1f} %")


def newswatch_venv() -> str:
    """The python of a venv with newswatch as a user installs it: this checkout built and
    installed as a wheel (so its modules are compiled to bytecode at install time, as
    ``pip install newswatch`` does; an editable install under PYTHONDONTWRITEBYTECODE=1
    compiled ~80 modules from source in every process of every run, ~0.5 s of CPU each),
    without the dev extras (no linters or test tools that its dependencies would pick up,
    as httpx imports rich when it is there)."""
    python = NW_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NW_VENV)], check=True)
    root = Path(__file__).resolve().parent.parent
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, str(root)], check=True)  # dependencies, once
    subprocess.run([*pip, "--no-deps", "--force-reinstall", str(root)], check=True)
    return str(python)


def run_newswatch(config: Path, python: str) -> tuple[float, int, int]:
    """One ``newswatch run --once``: (seconds, peak tree RSS bytes, peak tree PSS bytes)."""
    run = measured_run_once(config, timeout=3600, python=python, pss=True)
    if run.returncode != 0:
        raise SystemExit(f"newswatch run --once failed ({run.returncode}):\n{run.stderr}")
    return run.elapsed, run.peak, run.peak_pss


def rss2email_venv() -> Path:
    """The r2e executable of a venv with rss2email 3.14 (made once, then reused)."""
    r2e = R2E_VENV / "bin" / "r2e"
    if not r2e.exists():
        print(f"installing rss2email {R2E_VERSION} into {R2E_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(R2E_VENV)], check=True)
        pip = [str(R2E_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, f"rss2email=={R2E_VERSION}"], check=True)
    return r2e


def rss2email_setup(r2e: Path, home: Path, urls: list[str]) -> tuple[Path, Path]:
    """``r2e new`` and ``r2e add`` for every feed; (config, data) of a fresh set-up."""
    config, data = home / "r2e.cfg", home / "r2e.json"
    base = [str(r2e), "-c", str(config), "-d", str(data)]
    subprocess.run([*base, "new", "bench@example.org"], check=True, capture_output=True)
    # ``r2e add`` rewrites the whole data file, so the adds run one after another.
    for n, url in enumerate(urls):
        subprocess.run([*base, "add", f"feed{n}", url], check=True, capture_output=True)
    return config, data


def run_rss2email(r2e: Path, config: Path, data: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        [str(r2e), "-c", str(config), "-d", str(data), "run", "--no-send"],
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def run_bare(script: Path, urls: list[str]) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, str(script), *urls], check=True, capture_output=True)
    return time.monotonic() - started


# --- the run ----------------------------------------------------------------------------------


def timed_runs(runs: int, one: Callable[[int], dict[str, float]]) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    for n in range(runs):
        for key, value in one(n).items():
            results.setdefault(key, []).append(value)
        print(f"  run {n + 1}/{runs} done", flush=True)
    return results


def report(results: dict[str, list[float]], feeds: int, alerts: list[int]) -> None:
    med = {key: statistics.median(values) for key, values in results.items()}
    print(f"\n{feeds} feeds x {ITEMS} items, medians of {len(results['nw_cold'])} run(s):")
    print("| pass | newswatch | rss2email 3.14 (`r2e run --no-send`) | bare httpx + feedparser |")
    print("| --- | --- | --- | --- |")
    print(f"| cold | {med['nw_cold']:.1f} s | {med['r2e_cold']:.1f} s | {med['bare']:.1f} s |")
    print(f"| warm (all 304) | {med['nw_warm']:.1f} s | {med['r2e_warm']:.1f} s | — |")
    print(f"| peak RSS, newswatch tree (cold) | {med['nw_peak'] / 2**20:.0f} MiB | — | — |")
    print(f"| peak PSS, newswatch tree (cold) | {med['nw_pss'] / 2**20:.0f} MiB | — | — |")
    print(
        f"\ncold: rss2email / newswatch = {med['r2e_cold'] / med['nw_cold']:.2f}x, "
        f"bare / newswatch = {med['bare'] / med['nw_cold']:.2f}x; "
        f"warm: rss2email / newswatch = {med['r2e_warm'] / med['nw_warm']:.2f}x"
    )
    print(f"peak RSS per run: {', '.join(f'{p / 2**20:.0f}' for p in results['nw_peak'])} MiB")
    print("all runs:", {key: [round(v, 2) for v in values] for key, values in results.items()})
    print(f"webhook requests per cold pass: {alerts}")


@contextlib.contextmanager
def serving(documents: list[bytes]) -> Iterator[tuple[Path, list[str], WebhookReceiver]]:
    """The feeds on a loopback server and a webhook receiver: (a temp dir, URLs, hook)."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        FeedServer() as server,
        WebhookReceiver() as hook,
    ):
        for n, body in enumerate(documents):
            server.add(f"/feed/{n}", body, etag=f'"v{n}"', last_modified=LAST_MODIFIED)
        yield Path(tmp), [server.url(f"/feed/{n}") for n in range(len(documents))], hook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="only profile one newswatch cold pass")
    parser.add_argument(
        "--newswatch-only", action="store_true", help="time newswatch alone (a quick look)"
    )
    args = parser.parse_args()
    documents, pairs, matching = corpus(args.feeds)
    size = sum(map(len, documents))
    print(f"{args.feeds} feeds, {size / 1e6:.1f} MB of RSS, {matching} items carry a keyword")
    if args.profile:
        with serving(documents) as (root, urls, hook):
            newswatch_config(root / "newswatch.yaml", urls, pairs, hook.url)
            profile_newswatch(root / "newswatch.yaml", args.profile)
        return
    python = newswatch_venv()
    if args.newswatch_only:
        with serving(documents) as (root, urls, hook):
            for n in range(args.runs):
                config = root / f"nw{n}" / "newswatch.yaml"
                config.parent.mkdir()
                newswatch_config(config, urls, pairs, hook.url)
                cold, peak, pss = run_newswatch(config, python)
                warm, _, _ = run_newswatch(config, python)
                mib, pss_mib = peak / 2**20, pss / 2**20
                print(
                    f"newswatch cold {cold:.2f} s, warm {warm:.2f} s, "
                    f"peak RSS {mib:.0f} MiB, PSS {pss_mib:.0f} MiB"
                )
            print(f"webhook requests: {len(hook.requests)}")
        return
    r2e = rss2email_venv()
    with serving(documents) as (root, urls, hook):
        bare = root / "bare.py"
        bare.write_text(BARE_SCRIPT)
        print("setting up rss2email (r2e new, r2e add x feeds) ...", flush=True)
        pristine = root / "r2e-pristine"
        pristine.mkdir()
        r2e_config, r2e_data = rss2email_setup(r2e, pristine, urls)
        alerts: list[int] = []

        def one(n: int) -> dict[str, float]:
            run_dir = root / f"run{n}"
            (run_dir / "nw").mkdir(parents=True)
            config = run_dir / "nw" / "newswatch.yaml"
            newswatch_config(config, urls, pairs, hook.url)
            before = len(hook.requests)
            cold, peak, pss = run_newswatch(config, python)
            alerts.append(len(hook.requests) - before)
            warm, _, _ = run_newswatch(config, python)
            shutil.copytree(pristine, run_dir / "r2e")
            r2e_files = (run_dir / "r2e" / r2e_config.name, run_dir / "r2e" / r2e_data.name)
            r2e_cold = run_rss2email(r2e, *r2e_files)
            r2e_warm = run_rss2email(r2e, *r2e_files)
            return {
                "nw_cold": cold,
                "nw_warm": warm,
                "nw_peak": float(peak),
                "nw_pss": float(pss),
                "r2e_cold": r2e_cold,
                "r2e_warm": r2e_warm,
                "bare": run_bare(bare, urls),
            }

        results = timed_runs(args.runs, one)
    report(results, args.feeds, alerts)


if __name__ == "__main__":
    main()
