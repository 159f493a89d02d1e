"""Tests for newswatch.pipeline.workers: jobs (parsing) in worker processes within a CPU budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from newswatch.errors import ParseError
from newswatch.parse import parse_feed
from newswatch.pipeline.workers import WorkerPool
from support.parsejobs import scripted_job

URL = "https://feeds.example.org/rss"
RSS = b"<rss version='2.0'><channel><title>ok</title></channel></rss>"
# feedparser's author-email regex is quadratic: this costs far more than a second of CPU.
# (Declared ISO-8859-1 so that it goes to feedparser: the lxml fast path reads the UTF-8
# version of this document in milliseconds.)
QUADRATIC = (
    b"<?xml version='1.0' encoding='iso-8859-1'?>"
    b"<rss version='2.0'><channel><title>t</title><item><guid>1</guid><author>"
    + b"a" * 60_000
    + b"</author></item></channel></rss>"
)


def test_parses_in_a_worker() -> None:
    """A normal document parses to its feed."""

    async def main() -> str:
        pool = WorkerPool(workers=1)
        try:
            return (await pool.run(URL, parse_feed, RSS, feed_url=URL, content_type="")).title
        finally:
            pool.close()

    assert asyncio.run(main()) == "ok"


def test_cpu_budget_fails_the_document_and_keeps_the_worker() -> None:
    """A document that needs more CPU than the budget fails with a clear error; the worker
    is interrupted, not killed, and parses the next document."""

    async def main() -> tuple[str, str, int]:
        pool = WorkerPool(workers=1, budget=0.3)
        try:
            with pytest.raises(ParseError) as caught:
                await pool.run(URL, parse_feed, QUADRATIC, feed_url=URL, content_type="")
            after = await pool.run(URL, parse_feed, RSS, feed_url=URL, content_type="")
            return str(caught.value), after.title, pool.replaced
        finally:
            pool.close()

    error, title, replaced = asyncio.run(main())
    assert error.startswith("parsing took more than 0.3 s of CPU")
    assert (title, replaced) == ("ok", 0)


def test_stuck_worker_is_killed_and_other_documents_are_retried(tmp_path: Path) -> None:
    """A parse that cannot be interrupted is stopped by the backstop; a document that was
    in the killed pool at the time is parsed again and succeeds."""
    innocent = f"once:{tmp_path / 'marker'}".encode()

    async def main() -> tuple[BaseException | str, ...]:
        pool = WorkerPool(workers=2, budget=0.2, margin=1.0)
        try:
            stuck = asyncio.create_task(
                pool.run(URL, scripted_job, b"stuck", feed_url=URL, content_type="")
            )
            await asyncio.sleep(0.7)  # the stuck one's backstop fires at 1.4 s, this one's at 2.1 s
            other = asyncio.create_task(
                pool.run(URL, scripted_job, innocent, feed_url=URL, content_type="")
            )
            results = await asyncio.gather(stuck, other, return_exceptions=True)
            return (*(r if isinstance(r, BaseException) else r.title for r in results),)
        finally:
            pool.close()

    stuck, other = asyncio.run(main())
    assert isinstance(stuck, ParseError)
    assert str(stuck) == "parsing did not finish within 1.4 s: the parser was stopped"
    assert other == innocent.decode()


def test_waiting_for_a_worker_is_not_charged() -> None:
    """More documents than workers: the queued ones are not failed by the backstop."""

    async def main() -> list[str]:
        pool = WorkerPool(workers=1, budget=0.1, margin=0.2)
        try:
            # The worker's start (an interpreter and its imports: seconds on a loaded
            # machine) is not what this is about: it is started first.
            await pool.run(URL, scripted_job, b"warm", feed_url=URL, content_type="")
            docs = [f"nap{i}".encode() for i in range(10)]
            parsed = await asyncio.gather(
                *(pool.run(URL, scripted_job, d, feed_url=URL, content_type="") for d in docs)
            )
            return [p.title for p in parsed]
        finally:
            pool.close()

    assert asyncio.run(main()) == [f"nap{i}" for i in range(10)]


def test_a_job_named_by_module_runs_in_the_worker_and_the_poll_names_the_parser() -> None:
    """``by_name`` imports its target in the worker: the poll hands the parser over by
    name (so the parent never imports lxml), and the name is the real parser."""
    from newswatch.pipeline import poll
    from newswatch.pipeline.workers import by_name

    module, _, name = poll.PARSE_FEED.partition(":")
    assert getattr(__import__(module, fromlist=[name]), name) is parse_feed

    async def main() -> str:
        pool = WorkerPool(workers=1)
        try:
            parsed = await pool.run(
                URL, by_name, poll.PARSE_FEED, RSS, feed_url=URL, content_type=""
            )
            return str(parsed.title)
        finally:
            pool.close()

    assert asyncio.run(main()) == "ok"


def test_without_a_count_one_core_is_left_to_the_parent_but_two_work() -> None:
    """The default number of workers: the cores this process may use, less one, 2 to 4
    (two at least: a huge document must not hold up every other feed's)."""
    import os

    from newswatch.pipeline.workers import default_workers

    cores = len(os.sched_getaffinity(0))
    assert default_workers() == max(2, min(4, cores - 1))


WORKER_SIDE = """
import pickle, sys
from pathlib import Path
import newswatch.pipeline.jobs  # what the pool pickles its jobs through
from newswatch.parse import parse_feed
from newswatch.pipeline.analysis import WatchSource, analyse
source = Path(sys.argv[1]).read_bytes()
feed = parse_feed(Path(sys.argv[2]).read_bytes(), feed_url="https://feeds.example.org/rss")
found = analyse(feed.articles, WatchSource("d", source), {a.entry_key for a in feed.articles}, True)
print(sorted(found.matches))
print(" ".join(m for m in ("pydantic", "yaml", "newswatch.config", "asyncio") if m in sys.modules))
"""


def test_a_worker_needs_neither_the_configuration_layer_nor_asyncio(tmp_path: Path) -> None:
    """What a worker runs (parse a document, match and sign its articles against the
    watches it is sent) imports no pydantic, YAML, configuration layer or asyncio: that
    is ~20 MB of each worker's memory. The watches travel as plain data."""
    import subprocess
    import sys

    from newswatch.config import loads_config
    from newswatch.pipeline.analysis import WatchSource
    from support.cli import newswatch_env

    settings = loads_config(
        "feeds: [{url: 'https://feeds.example.org/rss'}]\n"
        "terms: {who: [Lukashenko, Лукашенко]}\n"
        "watches:\n"
        "  - {name: belarus, keywords: [Belarus], languages: [en], exclude: [football]}\n"
        "  - {name: leader, query: '@who AND NOT sport'}\n",
        tmp_path / "watchlist.yaml",
        {},
    )
    source = WatchSource.of(settings).source
    assert source is not None
    (tmp_path / "watches").write_bytes(source)
    (tmp_path / "feed.xml").write_bytes(
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><guid>1</guid><title>Belarus votes</title></item>"
        b"<item><guid>2</guid><title>Lukashenko speaks</title></item>"
        b"<item><guid>3</guid><title>Weather</title></item></channel></rss>"
    )
    run = subprocess.run(
        [sys.executable, "-c", WORKER_SIDE, str(tmp_path / "watches"), str(tmp_path / "feed.xml")],
        capture_output=True,
        text=True,
        env=newswatch_env(),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    matched, loaded = [*run.stdout.splitlines(), "", ""][:2]
    assert matched == "['1', '2']"  # the watches compiled from plain data match
    assert loaded == ""
