"""How many alerts per second the outbox delivers to a local webhook.

    .venv/bin/python bench/delivery_bench.py [--alerts 2000] [--runs 3]

Seeds a real SQLite outbox with N pending alerts for one webhook destination and times
``run --once``'s delivery (``newswatch.pipeline.deliver_all``) to a receiver on 127.0.0.1
that runs in its own process (so it does not compete with newswatch for the GIL). Each
alert is one HTTP POST and one SQLite commit ("sent"), plus one commit per pass that
fixes which message each alert goes in. Also times the same backlog with `burst: 10`,
where it goes out as digests of 100 alerts.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from newswatch.pipeline.deliver import deliver_all
from support.outbox import make_settings, runtime, seed


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
    wbufsize = 1 << 16  # the answer in one segment (no Nagle / delayed-ACK stall)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(port: multiprocessing.Value) -> None:  # type: ignore[valid-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port.value = server.server_address[1]  # type: ignore[attr-defined]
    server.serve_forever()


def run(alerts: int, burst: str) -> float:
    """Seconds to deliver ``alerts`` pending alerts."""
    port = multiprocessing.Value("i", 0)
    receiver = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    receiver.start()
    while not port.value:
        time.sleep(0.01)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"http://127.0.0.1:{port.value}/hook"
            settings = make_settings(
                Path(tmp), f"- {{name: hook, type: webhook, url: '{url}'{burst}}}"
            )
            seed(settings, alerts)

            async def deliver() -> float:
                async with runtime(settings) as rt:
                    started = time.perf_counter()
                    report = await deliver_all(rt)
                    elapsed = time.perf_counter() - started
                assert report.sent == alerts, report
                return elapsed

            return asyncio.run(deliver())
    finally:
        receiver.kill()
        receiver.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for label, burst in (("one message per alert", ""), ("burst: 10 (digests)", ", burst: 10")):
        rates = [args.alerts / run(args.alerts, burst) for _ in range(args.runs)]
        print(
            f"{label}: {args.alerts} alerts, best {max(rates):.0f} alerts/s, "
            f"median {sorted(rates)[len(rates) // 2]:.0f} alerts/s over {args.runs} runs"
        )


if __name__ == "__main__":
    main()
