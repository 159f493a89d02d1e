"""CPU-heavy work off the event loop: a process pool that runs given jobs, each within a
CPU budget.

Parsing (feedparser is pure Python) and story signatures are CPU-bound (NOTES.md): on the
event loop one large or pathological document would stall every other feed and the
scheduler. So the poll hands them to this pool as jobs — module-level functions and their
arguments, so that worker processes can import them — and each job is bounded twice:

- in the worker, by a CPU-time timer (``ITIMER_PROF``): past ``budget`` seconds of CPU the
  job is interrupted and fails with a clear error; the worker lives on;
- in the parent, by a wall-clock backstop (twice the budget plus a margin) for the rare
  case where the worker cannot be interrupted (stuck inside C code): the pool is replaced,
  which kills the stuck worker, and the other jobs that were in that pool run again once
  in the new one.

At most one job per worker is handed to the pool at a time, so time spent waiting for a
free worker is never charged to a job. The pool knows nothing of feeds: a job's ``label``
(the feed URL) only names it in errors.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import ParamSpec, TypeVar

from newswatch.errors import ParseError
from newswatch.pipeline.jobs import by_name, init_worker, within_budget

__all__ = ["JOB_BUDGET", "WorkerPool", "by_name"]

P = ParamSpec("P")
T = TypeVar("T")

JOB_BUDGET = 10.0  # seconds of CPU one job (parsing one feed document) may take


def default_workers() -> int:
    """Workers when not told: one core is left to the event loop and the store thread
    (fetching, the one write per poll), the others parse and match; at most four, and
    never fewer than two, so that one huge or slow document (up to its CPU budget) never
    holds up every other feed's. Each worker costs ~25 MB (PSS; it imports the parser,
    the matcher and cluster, never the configuration layer or asyncio)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 2
    return max(2, min(4, cores - 1))


BACKSTOP_MARGIN = 5.0  # seconds on top of twice the budget before a worker is killed


class WorkerPool:
    """Runs jobs in worker processes within a CPU budget per job."""

    def __init__(
        self,
        workers: int | None = None,
        budget: float = JOB_BUDGET,
        *,
        margin: float = BACKSTOP_MARGIN,
    ) -> None:
        self._workers = workers or default_workers()
        self._budget = budget
        self._margin = margin
        self._pool: ProcessPoolExecutor | None = None
        self._free: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self.replaced = 0  # how many times a stuck pool was killed (for tests and logs)

    @property
    def budget(self) -> float:
        """CPU seconds one job may take."""
        return self._budget

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=context, initializer=init_worker
            )
        return self._pool

    async def run(self, label: str, job: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``job(*args, **kwargs)`` in a worker; raises ParseError (naming ``label``) when
        it exceeds its budget or its worker dies twice."""
        bounded = partial(within_budget, self._budget, label, job, *args, **kwargs)
        return await self._run(bounded, label)

    async def _run(self, job: Callable[[], T], feed_url: str) -> T:
        loop = asyncio.get_running_loop()
        if self._free is None or self._free[0] is not loop:
            self._free = (loop, asyncio.Semaphore(self._workers))
        async with self._free[1]:
            try:
                return await self._attempt(job, feed_url)
            except BrokenProcessPool:
                # A pool killed because of another document (or a worker that died):
                # this document gets one more try in a fresh pool.
                try:
                    return await self._attempt(job, feed_url)
                except BrokenProcessPool as exc:
                    raise ParseError("the parser process died", url=feed_url) from exc

    async def _attempt(self, job: Callable[[], T], feed_url: str) -> T:
        loop = asyncio.get_running_loop()
        pool = self._executor()
        try:
            future = loop.run_in_executor(pool, job)
        except BrokenProcessPool:
            self._replace(pool)
            raise
        backstop = 2 * self._budget + self._margin
        try:
            return await asyncio.wait_for(future, backstop)
        except TimeoutError as exc:
            self._replace(pool)
            raise ParseError(
                f"parsing did not finish within {backstop:g} s: the parser was stopped",
                url=feed_url,
            ) from exc
        except BrokenProcessPool:
            self._replace(pool)
            raise

    def _replace(self, pool: ProcessPoolExecutor) -> None:
        """Kill ``pool``'s workers (if it is still the current pool) and forget it."""
        if self._pool is not pool:
            return
        self._pool = None
        self.replaced += 1
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
