"""Peak memory of a process tree (a newswatch run and its parser workers), sampled."""

from __future__ import annotations

import contextlib
import threading

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
