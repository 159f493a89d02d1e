"""Run the real ``newswatch`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def newswatch_env(**extra: str) -> dict[str, str]:
    """The test process's environment without anything that would change newswatch's
    behaviour (systemd sockets, a config path), plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "NOTIFY_SOCKET",
            "WATCHDOG_USEC",
            "WATCHDOG_PID",
            "NEWSWATCH_CONFIG",
            "JOURNAL_STREAM",
            "STATE_DIRECTORY",
        )
    }
    env.update(extra)
    return env


def newswatch(
    config: Path | None,
    *args: str,
    timeout: float = 60,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``newswatch [--config CONFIG] ARGS`` to completion and capture its output."""
    cmd = [sys.executable, "-m", "newswatch"]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.run(
        cmd + list(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=newswatch_env(**env),
        check=False,
    )


def start_newswatch(config: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    """Start ``newswatch --config CONFIG ARGS`` in the background (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "newswatch", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=newswatch_env(**env),
    )


class Daemon:
    """``newswatch run`` in a subprocess, its output collected line by line."""

    def __init__(self, config: Path, *args: str, **env: str) -> None:
        import threading

        self.proc = start_newswatch(config, "run", *args, **env)
        self.lines: list[str] = []
        self.stdout: list[str] = []
        self._changed = threading.Condition()
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump(self, stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._changed:
                sink.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for_log(self, text: str, timeout: float = 15.0, after: int = 0) -> str:
        """Block until a stderr line (from index ``after`` on) contains ``text``."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(text in line for line in self.lines[after:]), timeout
            )
            if not found:
                raise AssertionError(f"no log line with {text!r}; got:\n" + "\n".join(self.lines))
            return next(line for line in self.lines[after:] if text in line)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then the exit code (killing it if it does not exit in time)."""
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            for thread in self._threads:
                thread.join(5)
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
