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
    """Samples the summed RSS of a process and all its descendants every 50 ms."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for proc in tree:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
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


def measured_run_once(config: Path, timeout: float) -> MeasuredRun:
    """Run ``newswatch --config CONFIG run --once`` in a subprocess, sampling its memory."""
    from support.cli import newswatch_env

    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newswatch", "--config", str(config), "run", "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=newswatch_env(),
    )
    sampler = TreeMemorySampler(proc.pid)
    stdout, stderr = proc.communicate(timeout=timeout)
    peak = sampler.finish()
    return MeasuredRun(proc.returncode, stdout, stderr, time.monotonic() - started, peak)
