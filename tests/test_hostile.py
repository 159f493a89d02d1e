"""Hostile feeds and failing servers, end to end: one `newswatch run --once` over every
hostile mode beside a normal feed. Every bad feed is recorded with the right error, the
normal feed still alerts, the run ends within its deadline, memory stays bounded, and no
more than two requests at once reach the one host."""

from __future__ import annotations

import json
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import newswatch
from support.hostile import NORMAL_TITLE, HostileServer, hostile_routes, normal_routes
from support.memory import measured_run_once
from support.receivers import WebhookReceiver

pytestmark = pytest.mark.slow

TIMEOUT = 2  # poll.timeout, seconds

# path -> (state, error) as `status --json` must report them; "ok" feeds have no error.
# One failed poll is "erroring": "failing" is what health.failing_after (6 h) announces.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "/drip": ("erroring", "timed out: no complete response within 2 s"),
    "/slow-start": ("erroring", "timed out: no complete response within 2 s"),
    "/endless": ("erroring", "body larger than 10000000 bytes"),
    "/gzip-bomb": ("erroring", "body larger than 10000000 bytes"),
    "/redirect-loop": ("erroring", "redirect loop"),
    "/chain/0": ("erroring", "more than 5 redirects"),
    "/metadata": ("erroring", "redirect to a link-local address refused"),
    "/429": ("erroring", "HTTP 429"),
    "/503": ("erroring", "HTTP 503"),
    "/500": ("erroring", "HTTP 500"),
    "/410": ("gone", "HTTP 410 (gone)"),
    "/html": ("erroring", "not a feed: the document is an HTML page"),
    "/empty": ("erroring", "empty body"),
    "/garbage": ("erroring", "not a feed: the document is not well-formed RSS, Atom or JSON Feed"),
    "/header-flood": ("erroring", "response headers larger than 64 KB"),
    "/wrong-charset": ("warning", None),
    "/billion-laughs": ("ok", None),
    "/xxe": ("ok", None),
    "/many-items": ("ok", None),
    "/huge-title": ("ok", None),
}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, HostileServer, WebhookReceiver, int]]:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-XXE-4711")
    with (
        HostileServer(hostile_routes(str(secret))) as bad,
        HostileServer(normal_routes()) as good,
        WebhookReceiver() as hook,
    ):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        feeds = [f"  - {{url: '{bad.url(path)}', name: '{path}'}}" for path in EXPECTED]
        feeds.append(f"  - {{url: 'http://127.0.0.1:{closed_port}/feed', name: refused}}")
        feeds.append(f"  - {{url: '{good.url('/normal').replace('http:', 'https:')}', name: tls}}")
        feeds.append(f"  - {{url: '{good.url('/normal')}', name: normal}}")
        config = tmp_path / "watchlist.yaml"
        config.write_text(
            textwrap.dedent("""\
            database: state.db
            poll: {interval: 1m, timeout: %ds, first_run: all}
            feeds:
            %s
            watches:
              - name: belarus
                keywords: [Lukashenko]
            destinations:
              - name: hook
                type: webhook
                url: %s
            """)
            % (TIMEOUT, "\n".join(feeds), hook.url)
        )
        yield config, bad, hook, closed_port


def test_hostile_run_once(world: tuple[Path, HostileServer, WebhookReceiver, int]) -> None:
    """Every hostile feed is recorded with its error; the normal feed alerts once; the run
    ends in time with bounded memory; at most two requests at once reach the host."""
    config, bad, hook, _ = world
    run = measured_run_once(config, timeout=120)
    elapsed, peak, stdout, stderr = run.elapsed, run.peak, run.stdout, run.stderr
    print(
        f"hostile run --once: {elapsed:.1f} s, peak RSS of the process tree {peak / 2**20:.0f} MiB"
    )
    assert run.returncode == 0, stderr
    # the deadline: every slow feed is cut at poll.timeout; nothing else may take long
    assert elapsed < 30
    assert peak < 1024 * 2**20

    assert [r.json()["article"]["title"] for r in hook.requests] == [NORMAL_TITLE]
    assert bad.peak_concurrency <= 2

    status = newswatch(config, "status", "--json")
    assert status.returncode == 0, status.stderr
    rows = {r["feed"]: r for r in map(json.loads, status.stdout.splitlines())}
    for path, (state, error) in EXPECTED.items():
        assert (rows[path]["state"], rows[path]["last_error"]) == (state, error), path
    assert rows["refused"]["last_error"] == "connection refused"
    assert rows["tls"]["last_error"].startswith("TLS handshake failed: ")
    assert rows["normal"]["state"] == "ok"
    assert rows["/many-items"]["items_seen"] == 1000
    assert rows["/wrong-charset"]["warning"].startswith("the document is not valid utf-8")

    text = "\n".join((stdout, stderr, status.stdout, newswatch(config, "status").stdout))
    assert "TOPSECRET" not in text
    db = (config.parent / "state.db").read_bytes()
    assert b"TOPSECRET" not in db
    assert b"lollollollol" not in db
