"""Apprise destinations through the real apprise library: its ``json://`` and ``form://``
plugins posting to a loopback receiver; title, body, failures, deadline, secrets."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from newswatch.config import AppriseDestination
from newswatch.errors import TransientDeliveryError
from newswatch.models import Digest
from newswatch.notify import AppriseNotifier, build_notifiers
from newswatch.notify.apprise import apprise_body, markdown_escape
from support.alerts import CREATED, deliver, destination, make_alert
from support.receivers import Reply, WebhookReceiver, silent_server

TOKEN = "s3cr3t-token"


def apprise_url(receiver: WebhookReceiver, plugin: str = "json") -> str:
    """``json://127.0.0.1:PORT/hook/…/s3cr3t-token``: apprise's plugin, our receiver."""
    return receiver.url.replace("http://", f"{plugin}://", 1)


def notifier(*urls: str, **fields: Any) -> AppriseNotifier:
    dest = destination(name="phones", type="apprise", urls=list(urls), **fields)
    assert isinstance(dest, AppriseDestination)
    return AppriseNotifier(dest)


def test_one_alert_is_one_json_notification_with_title_and_body() -> None:
    """json://: one POST whose title is ``[newswatch] <watch>: <title>`` and whose body has
    link, feed, time, matched terms, snippet and the other outlet."""
    with WebhookReceiver() as hook:
        deliver(notifier(apprise_url(hook)), make_alert())
        (post,) = hook.requests
    payload = post.json()
    assert payload["title"] == "[newswatch] belarus: Lukashenko claims victory in Belarus"
    body = payload["message"]
    assert "https://news.example.org/2026/11/24/lukashenko-victory?id=1&lang=en" in body
    assert "Feed: Example World · 2026-11-24 10:00 UTC" in body
    assert "Matched: Lukashenko (title, summary), Belarus (title)" in body
    assert "**Lukashenko**" in body
    assert "Lukashenko wins again" in body and "Other News" in body


def test_form_plugin_delivers_the_same_notification() -> None:
    """form://: the same title and body arrive as form fields."""
    with WebhookReceiver() as hook:
        deliver(notifier(apprise_url(hook, "form")), make_alert())
        (post,) = hook.requests
    fields = parse_qs(post.body.decode())
    assert fields["title"] == ["[newswatch] belarus: Lukashenko claims victory in Belarus"]
    assert "Example World" in fields["message"][0]


def test_a_refused_notification_is_a_transient_failure_without_secrets() -> None:
    """A 500 from the service is a TransientDeliveryError whose text names only the scheme."""
    with (
        WebhookReceiver(default=Reply(500, body=b"down")) as hook,
        pytest.raises(TransientDeliveryError) as caught,
    ):
        deliver(notifier(apprise_url(hook)), make_alert())
    message = str(caught.value)
    assert "json://…" in message
    assert TOKEN not in message and "/hook/" not in message


def test_retry_resends_only_to_the_url_that_failed() -> None:
    """Two URLs, one down: the retry goes to the failed one only; each got it once."""
    with WebhookReceiver("/a/tok-aaaa") as good, WebhookReceiver("/b/tok-bbbb") as flaky:
        flaky.script(Reply(503))
        sender = notifier(apprise_url(good), apprise_url(flaky))

        async def twice() -> None:
            with pytest.raises(TransientDeliveryError):
                await sender.send(make_alert())
            await sender.send(make_alert())
            await sender.aclose()

        asyncio.run(twice())
        assert len(good.requests) == 1
        assert len(flaky.requests) == 2


def test_a_silent_service_fails_within_the_destination_timeout() -> None:
    """A service that never answers costs at most ``timeout``, then a transient failure."""
    with silent_server() as url:
        sender = notifier(url.replace("http://", "json://") + "/x", timeout="1s")
        loop_time: list[float] = []

        async def run() -> None:
            start = asyncio.get_running_loop().time()
            try:
                with pytest.raises(TransientDeliveryError, match="no answer within 1 s"):
                    await sender.send(make_alert())
            finally:
                loop_time.append(asyncio.get_running_loop().time() - start)
                await sender.aclose()

        asyncio.run(run())
    assert loop_time[0] < 3


def test_digest_is_one_notification() -> None:
    """A digest of two alerts is one notification naming both."""
    first, second = make_alert(), make_alert(id="al_2", title="Second Lukashenko story")
    digest = Digest("dg_1", "belarus", (first, second), CREATED)
    with WebhookReceiver() as hook:
        sender = notifier(apprise_url(hook))

        async def run() -> None:
            await sender.send_digest(digest)
            await sender.aclose()

        asyncio.run(run())
        (post,) = hook.requests
    payload = post.json()
    assert payload["title"].startswith("[newswatch] belarus: 2 alerts")
    assert "Second Lukashenko story" in payload["message"]


def test_markdown_body_escapes_feed_text() -> None:
    """In markdown, a feed title cannot make a link or emphasis; the real link stays."""
    alert = make_alert(title="[click](javascript:alert(1)) *now*")
    body = apprise_body(alert, "markdown")
    assert markdown_escape("[click](javascript:alert(1)) *now*") in body
    assert "](https://news.example.org/" in body
    assert "[click](javascript" not in body


def test_html_body_escapes_feed_text() -> None:
    """In html, feed text is escaped and the link is an anchor."""
    body = apprise_body(make_alert(title="<script>x</script>"), "html")
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert '<a href="https://news.example.org/' in body


def test_apprise_logs_no_url(caplog: pytest.LogCaptureFixture) -> None:
    """Even at DEBUG, nothing apprise logs reaches the application's log handlers."""
    caplog.set_level(logging.DEBUG)
    with WebhookReceiver(default=Reply(500)) as hook, pytest.raises(TransientDeliveryError):
        deliver(notifier(apprise_url(hook)), make_alert())
    assert TOKEN not in caplog.text
    assert not [r for r in caplog.records if r.name.startswith("apprise")]


def test_destination_defaults() -> None:
    """format text, timeout 30 s."""
    dest = destination(name="p", type="apprise", urls=["json://127.0.0.1:9/x"])
    assert isinstance(dest, AppriseDestination)
    assert dest.format == "text" and dest.timeout == timedelta(seconds=30)


def test_build_notifiers_makes_an_apprise_notifier() -> None:
    """build_notifiers turns an apprise destination into an AppriseNotifier."""
    dest = destination(name="p", type="apprise", urls=["json://127.0.0.1:9/x"])
    built = build_notifiers([dest], user_agent="ua")
    assert isinstance(built["p"], AppriseNotifier)
    asyncio.run(built["p"].aclose())


def _imports_apprise(tmp_path: Path, destinations: str) -> bool:
    config = tmp_path / "watchlist.yaml"
    config.write_text(
        textwrap.dedent("""\
        feeds: [{url: "https://a.example/rss"}]
        watches: [{name: w, keywords: [x]}]
        """)
        + destinations
    )
    code = (
        "import sys, os\n"
        "from pathlib import Path\n"
        "from newswatch.config import load_config\n"
        "from newswatch.notify import build_notifiers\n"
        f"s = load_config(Path({str(config)!r}), os.environ)\n"
        "build_notifiers(s.destinations, user_agent='ua')\n"
        "print('apprise' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def test_apprise_is_imported_only_for_an_apprise_destination(tmp_path: Path) -> None:
    """Loading a config and building notifiers imports apprise only when it is needed."""
    assert not _imports_apprise(tmp_path, "destinations: [{name: t, type: console}]\n")
    apprise_dest = 'destinations: [{name: p, type: apprise, urls: ["json://127.0.0.1:9/x"]}]\n'
    assert _imports_apprise(tmp_path, apprise_dest)
