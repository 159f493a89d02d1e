"""Peak memory of a process tree (a newswatch run and its parser workers), sampled."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


class TreeMemorySampler:
    """Samples the summed RSS of a process and all its descendants every 50 ms (and,
    with ``pss``, their summed PSS: shared pages counted once, split between sharers)."""

    def __init__(self, pid: int, every: float = 0.05, *, pss: bool = False) -> None:
        self.process = psutil.Process(pid)
        self.every = every
        self.pss = pss
        self.peak = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
            except psutil.Error:
                return
            total = shared = 0
            for proc in tree:
                with contextlib.suppress(psutil.Error):
                    if self.pss:
                        info = proc.memory_full_info()
                        total += info.rss
                        shared += info.pss
                    else:
                        total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, shared)
            self._stop.wait(self.every)

    def finish(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop.set()
        self._thread.join(5)
        return self.peak


@dataclass(frozen=True)
class MeasuredRun:
    """A finished ``newswatch run --once``: exit code, output, wall time, peak tree RSS."""

    returncode: int
    stdout: str
    stderr: str
    elapsed: float  # seconds
    peak: int  # bytes, newswatch and its descendants summed
    peak_pss: int = 0  # bytes, their PSS summed (when asked for)


def measured_run_once(
    config: Path, timeout: float, *, python: str | None = None, pss: bool = False
) -> MeasuredRun:
    """Run ``newswatch --config CONFIG run --once`` in a subprocess (with ``python``,
    by default this one), sampling its memory."""
    from support.cli import newswatch_env

    started = time.monotonic()
    proc = subprocess.Popen(
        [python or sys.executable, "-m", "newswatch", "--config", str(config), "run", "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=newswatch_env(),
    )
    sampler = TreeMemorySampler(proc.pid, pss=pss)
    stdout, stderr = proc.communicate(timeout=timeout)
    peak = sampler.finish()
    elapsed = time.monotonic() - started
    return MeasuredRun(proc.returncode, stdout, stderr, elapsed, peak, sampler.peak_pss)
