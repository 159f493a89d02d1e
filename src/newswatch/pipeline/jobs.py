"""The worker side of :mod:`~newswatch.pipeline.workers`: what a worker process runs.

A worker imports this module to run a job (the pool pickles :func:`within_budget` by
name), so it imports nothing it does not need: no asyncio (and with it ssl), no
configuration layer — ~10 MB less in every worker.
"""

from __future__ import annotations

import importlib
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any, ParamSpec, TypeVar

from newswatch.errors import ParseError

__all__ = ["by_name", "init_worker", "within_budget"]

P = ParamSpec("P")
T = TypeVar("T")


def by_name(target: str, /, *args: Any, **kwargs: Any) -> Any:
    """Call the function named ``module:name`` with the arguments: a job whose module
    only the worker imports (the parser's lxml and selectolax stay out of the parent)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


class _OverBudget(BaseException):
    """Raised by the CPU timer inside a worker. A BaseException, so that no
    ``except Exception`` in a parser swallows it and carries on."""


_armed = False


def _on_cpu_timer(_signum: int, _frame: FrameType | None) -> None:
    if _armed:
        raise _OverBudget


def init_worker() -> None:
    """Runs once in each worker process."""
    signal.signal(signal.SIGPROF, _on_cpu_timer)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop


def within_budget(
    budget: float, label: str, job: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``job(*args, **kwargs)`` interrupted after ``budget`` seconds of this process's CPU
    time. Only for a worker's main thread (where :func:`init_worker` installed the handler)."""
    global _armed  # one timer per worker process
    try:
        _armed = True
        signal.setitimer(signal.ITIMER_PROF, budget)
        try:
            return job(*args, **kwargs)
        finally:
            _armed = False
            signal.setitimer(signal.ITIMER_PROF, 0)
    except _OverBudget:
        raise ParseError(
            f"parsing took more than {budget:g} s of CPU: the document is too large or "
            "pathological",
            url=label,
        ) from None
