"""The outbox worker: planning messages, pausing failing destinations, rate limits,
digests, crash-stable keys — against real receivers and a real SQLite outbox."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.config import Rate
from newswatch.models import Delivery, DeliveryState
from newswatch.outbox import plan_units, rate_wait, retry_delay
from newswatch.pipeline.deliver import Deliverer, deliver_all
from newswatch.store import SQLiteStore
from support.alerts import make_alert
from support.outbox import Clock, make_settings, runtime, seed, states
from support.receivers import Reply, WebhookReceiver, silent_server

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def row(n: int, watch: str = "belarus", unit: str | None = None, age: float = 0) -> Delivery:
    alert = make_alert(id=f"a{n}", watch=watch)
    created = NOW - timedelta(seconds=age)
    return Delivery(n, alert, "hook", DeliveryState.PENDING, 0, created, None, None, unit, created)


def counter() -> object:
    numbers = iter(range(1000))
    return lambda: f"d{next(numbers)}"


def no_window(watch: str) -> timedelta | None:
    return None


# --- planning ---------------------------------------------------------------------------


def test_plan_sends_few_alerts_one_by_one_under_their_own_ids() -> None:
    """Up to `burst` waiting alerts go as single messages keyed by their alert ids."""
    plan = plan_units([row(1), row(2)], now=NOW, burst=2, digest_max=10, window=no_window)
    assert [(u.key, u.digest) for u in plan.units] == [("a1", False), ("a2", False)]
    assert plan.assign == {"a1": [1], "a2": [2]}


def test_plan_turns_a_burst_into_digests_per_watch() -> None:
    """More than `burst` waiting alerts go as digests, one per watch, chunked."""
    due = [row(1), row(2, "leaks"), row(3), row(4), row(5, "leaks")]
    plan = plan_units(due, now=NOW, burst=3, digest_max=2, window=no_window, new_id=counter())  # type: ignore[arg-type]
    assert all(u.digest for u in plan.units)
    assert sorted(tuple(u.ids) for u in plan.units) == [(1, 3), (2, 5), (4,)]
    assert sorted(plan.assign) == ["d0", "d1", "d2"]


def test_plan_keeps_a_unit_committed_before_a_crash() -> None:
    """A delivery already given a unit goes in that same message, whatever else waits."""
    due = [row(1, unit="a1"), *(row(n) for n in range(2, 10))]
    plan = plan_units(due, now=NOW, burst=3, digest_max=50, window=no_window)
    assert plan.units[0].key == "a1" and not plan.units[0].digest
    assert "a1" not in plan.assign
    digest = [row(1, unit="dg"), row(2, unit="dg")]
    (unit,) = plan_units(digest, now=NOW, burst=None, digest_max=50, window=no_window).units
    assert (unit.key, unit.digest, unit.ids) == ("dg", True, [1, 2])


def test_plan_holds_a_digest_window_until_it_closes() -> None:
    """Alerts of a watch with a digest window wait for the window opened by the oldest."""

    def window(watch: str) -> timedelta:
        return timedelta(minutes=10)

    due = [row(1, age=300), row(2, age=10)]
    held = plan_units(due, now=NOW, burst=None, digest_max=50, window=window)
    assert held.units == () and held.held_until == NOW + timedelta(minutes=5)
    ready = plan_units(
        due, now=NOW + timedelta(minutes=5), burst=None, digest_max=50, window=window
    )
    (unit,) = ready.units
    assert unit.digest and unit.ids == [1, 2]


def test_retry_delay_grows_with_jitter_and_honours_retry_after() -> None:
    """Backoff doubles per failure within 50-100 %, capped; Retry-After replaces it."""
    rng = random.Random(7)
    base = timedelta(seconds=30)
    for failures, full in ((1, 30), (2, 60), (4, 240), (30, 3600)):
        delay = retry_delay(base, failures, None, rng).total_seconds()
        assert full / 2 <= delay <= full
    assert retry_delay(base, 5, 7.0, rng) == timedelta(seconds=7)
    assert retry_delay(base, 1, 0.0, rng) == timedelta(seconds=1)
    assert retry_delay(base, 1, 10**9, rng) == timedelta(hours=6)


def test_rate_wait_allows_n_sends_per_sliding_window() -> None:
    """At most `messages` sends start in any `period` (whichever process made them); a
    rate lowered by a reload counts the sends already made."""
    rate = Rate(3, timedelta(seconds=10))
    sends = [NOW + timedelta(seconds=s) for s in (0, 1, 2)]

    def wait(rate: Rate | None, sends: list[datetime], at: float) -> float:
        return rate_wait(rate, sends, NOW + timedelta(seconds=at)).total_seconds()

    assert wait(rate, sends[:2], 2) == 0
    assert wait(rate, sends, 4) == pytest.approx(6.0)
    assert wait(rate, sends, 10) == 0
    assert wait(None, sends, 4) == 0
    assert wait(Rate(1, timedelta(seconds=10)), sends, 4) == pytest.approx(8.0)


# --- lanes against real receivers ------------------------------------------------------


def test_retry_after_is_honoured_and_the_key_never_changes(tmp_path: Path) -> None:
    """503 + Retry-After three times, then 200: exactly one accepted delivery, the same
    Idempotency-Key every time, and each retry waits at least Retry-After."""
    with WebhookReceiver() as hook:
        hook.script(*[Reply(503, {"Retry-After": "1"})] * 3)
        settings = make_settings(tmp_path, f"- {{name: hook, type: webhook, url: '{hook.url}'}}")
        (alert_id,) = seed(settings, 1)

        async def scenario() -> None:
            async with runtime(settings) as rt:
                deliverer = Deliverer(rt)
                deliverer.start()
                await asyncio.to_thread(hook.wait_for, 4, 15)
                await asyncio.sleep(0.3)
                await deliverer.stop(5)

        started = time.monotonic()
        asyncio.run(scenario())
        arrivals = time.monotonic() - started
    keys = {r.header("Idempotency-Key") for r in hook.requests}
    assert keys == {alert_id} and len(hook.requests) == 4
    assert arrivals >= 3.0  # three waits of at least Retry-After (1 s)
    assert states(settings) == {"hook": [DeliveryState.SENT]}


def test_permanent_error_is_dead_at_once_and_retry_revives_it(tmp_path: Path) -> None:
    """A 404 marks the delivery dead without retrying; `alerts retry` queues it again and
    the next pass delivers it."""
    with WebhookReceiver() as hook:
        hook.script(Reply(404, body=b"no such hook"))
        settings = make_settings(tmp_path, f"- {{name: hook, type: webhook, url: '{hook.url}'}}")
        (alert_id,) = seed(settings, 1)
        clock = Clock()

        async def passes() -> None:
            async with runtime(settings, clock) as rt:
                await deliver_all(rt)
                clock.advance(3600)
                await deliver_all(rt)

        asyncio.run(passes())
        assert len(hook.requests) == 1
        store = SQLiteStore(settings.database)
        (dead,) = store.deliveries(DeliveryState.DEAD)
        assert "HTTP 404" in (dead.last_error or "") and dead.attempts == 1
        assert store.retry_dead([alert_id], clock()) == 1
        store.close()
        asyncio.run(passes())
    assert len(hook.requests) == 2
    assert states(settings) == {"hook": [DeliveryState.SENT]}


def test_failing_destination_pauses_as_a_whole_others_go_on(tmp_path: Path) -> None:
    """A destination that fails is tried once, then its whole queue waits; a healthy
    destination gets everything meanwhile."""
    with WebhookReceiver() as bad, WebhookReceiver() as good:
        bad.default = Reply(503)
        settings = make_settings(
            tmp_path,
            f"""
            - {{name: bad, type: webhook, url: '{bad.url}'}}
            - {{name: good, type: webhook, url: '{good.url}'}}
            """,
        )
        seed(settings, 5)
        clock = Clock()

        async def passes() -> None:
            async with runtime(settings, clock) as rt:
                await deliver_all(rt)
                clock.advance(1)  # later alerts arrive while "bad" is paused
                seed(settings, 2, start=5, now=clock())
                await deliver_all(rt)

        asyncio.run(passes())
    assert len(bad.requests) == 1
    assert len(good.requests) == 7
    store = SQLiteStore(settings.database)
    state = store.destination_state("bad")
    store.close()
    assert state.failures == 1 and state.paused_until is not None
    assert state.paused_until >= clock.now - timedelta(seconds=1) + timedelta(seconds=15)


def test_a_pause_another_process_sets_mid_pass_stops_this_one(tmp_path: Path) -> None:
    """While this process's first send is in flight, another process's send to the same
    destination fails and pauses it for 30 s: the first send's success does not end that
    pause, and no further message is claimed; the rest stays pending."""
    with WebhookReceiver() as hook:
        settings = make_settings(tmp_path, f"- {{name: hook, type: webhook, url: '{hook.url}'}}")
        seed(settings, 3)
        until = datetime.now(UTC) + timedelta(seconds=30)
        hook_record = hook.record

        def paused_elsewhere(request):  # type: ignore[no-untyped-def]
            if not hook.requests:  # as the first message arrives, another process fails
                with SQLiteStore(settings.database) as other:
                    other.pause_destination("hook", "HTTP 429 (another process)", until)
            return hook_record(request)

        hook.record = paused_elsewhere  # type: ignore[method-assign]

        async def once() -> None:
            async with runtime(settings) as rt:
                await deliver_all(rt)

        asyncio.run(once())
    assert len(hook.requests) == 1
    assert states(settings) == {"hook": [DeliveryState.SENT, *[DeliveryState.PENDING] * 2]}
    with SQLiteStore(settings.database) as store:
        state = store.destination_state("hook")
    assert (state.paused_until, state.failures) == (until, 1)


def test_slow_destination_never_delays_another(tmp_path: Path) -> None:
    """While one destination hangs on a send, another one's alerts are all delivered."""
    with silent_server() as never, WebhookReceiver() as good:
        settings = make_settings(
            tmp_path,
            f"""
            - {{name: stuck, type: webhook, url: '{never}'}}
            - {{name: good, type: webhook, url: '{good.url}'}}
            """,
        )
        seed(settings, 3)

        async def scenario() -> dict[str, list[DeliveryState]]:
            async with runtime(settings) as rt:
                deliverer = Deliverer(rt)
                deliverer.start()
                await asyncio.to_thread(good.wait_for, 3, 10)
                await asyncio.sleep(0.3)
                seen = states(settings)
                await deliverer.stop(0.5)
                return seen

        seen = asyncio.run(scenario())
    assert seen["good"] == [DeliveryState.SENT] * 3
    assert seen["stuck"] == [DeliveryState.PENDING] * 3


def test_burst_over_the_cap_goes_as_one_digest(tmp_path: Path) -> None:
    """Twelve alerts waiting for a destination with `burst: 5` arrive as one digest whose
    body lists them all, keyed by the digest id."""
    with WebhookReceiver() as hook:
        settings = make_settings(
            tmp_path, f"- {{name: hook, type: webhook, url: '{hook.url}', burst: 5}}"
        )
        ids = seed(settings, 12)

        async def once() -> None:
            async with runtime(settings) as rt:
                await deliver_all(rt)

        asyncio.run(once())
    (request,) = hook.requests
    body = request.json()
    assert body["digest"] is True and body["watch"] == "belarus"
    assert [a["id"] for a in body["alerts"]] == ids
    assert request.header("Idempotency-Key") == body["id"] != ids[0]
    assert states(settings) == {"hook": [DeliveryState.SENT] * 12}


def test_digest_window_collects_a_watch_into_one_message(tmp_path: Path) -> None:
    """With `digest: 10m`, alerts wait until ten minutes after the first, then go as one
    message; a run before that sends nothing."""
    with WebhookReceiver() as hook:
        settings = make_settings(
            tmp_path,
            f"- {{name: hook, type: webhook, url: '{hook.url}'}}",
            watches="- {name: belarus, keywords: [Lukashenko], digest: 10m}",
        )
        clock = Clock()
        first = seed(settings, 2, now=clock())

        async def run(advance: float, more: int = 0) -> None:
            clock.advance(advance)
            if more:
                first.extend(seed(settings, more, start=10, now=clock()))
            async with runtime(settings, clock) as rt:
                await deliver_all(rt)

        asyncio.run(run(60, more=1))
        assert hook.requests == []
        asyncio.run(run(540))
    (request,) = hook.requests
    assert [a["id"] for a in request.json()["alerts"]] == first


def test_slack_is_sent_at_most_one_message_a_second(tmp_path: Path) -> None:
    """Slack's default rate: three alerts start at least a second apart."""
    with WebhookReceiver() as slack:
        settings = make_settings(tmp_path, f"- {{name: chat, type: slack, url: '{slack.url}'}}")
        seed(settings, 3)
        arrivals: list[float] = []

        async def once() -> None:
            async with runtime(settings) as rt:
                await deliver_all(rt)

        slack_record = slack.record

        def timed(request):  # type: ignore[no-untyped-def]
            arrivals.append(time.monotonic())
            return slack_record(request)

        slack.record = timed  # type: ignore[method-assign]
        asyncio.run(once())
    assert len(slack.requests) == 3
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.95


def test_unit_in_flight_at_a_crash_is_resent_as_the_same_message(tmp_path: Path) -> None:
    """An alert whose send was committed (and maybe delivered) before a crash goes again
    alone under its own key, even if a burst now turns the rest into a digest."""
    with WebhookReceiver() as hook:
        settings = make_settings(
            tmp_path, f"- {{name: hook, type: webhook, url: '{hook.url}', burst: 3}}"
        )
        (first,) = seed(settings, 1)
        store = SQLiteStore(settings.database)
        (delivery,) = store.due_for("hook", datetime.now(UTC) + timedelta(seconds=1))
        store.assign_units({first: [delivery.id]})  # the pass that was killed
        store.close()
        rest = seed(settings, 6, start=1)

        async def once() -> None:
            async with runtime(settings) as rt:
                await deliver_all(rt)

        asyncio.run(once())
    keys = [r.header("Idempotency-Key") for r in hook.requests]
    assert keys[0] == first
    assert [a["id"] for a in hook.requests[1].json()["alerts"]] == rest


def test_max_attempts_gives_up_and_max_age_gives_up_the_old(tmp_path: Path) -> None:
    """After `max_attempts` failed attempts a delivery is dead; a failure also gives up
    every waiting delivery older than `max_age`."""
    with WebhookReceiver() as hook:
        hook.default = Reply(500)
        settings = make_settings(
            tmp_path,
            f"- {{name: hook, type: webhook, url: '{hook.url}', max_attempts: 2, "
            "max_age: 1h, backoff: 1s}",
        )
        clock = Clock()
        seed(settings, 1, now=clock() - timedelta(hours=2), start=0)
        seed(settings, 1, now=clock(), start=1)

        async def passes() -> None:
            async with runtime(settings, clock) as rt:
                await deliver_all(rt)  # the old one fails: dead by age
                for _ in range(3):
                    clock.advance(60)
                    await deliver_all(rt)  # the new one: attempt 1, attempt 2 (dead)

        asyncio.run(passes())
    assert len(hook.requests) == 3
    assert states(settings) == {"hook": [DeliveryState.DEAD, DeliveryState.DEAD]}


def test_graceful_stop_finishes_the_send_in_flight_and_leaves_the_rest(tmp_path: Path) -> None:
    """Stopping lets the message in flight finish (and be recorded sent); nothing else is
    sent, and the rest stays pending."""
    with WebhookReceiver(default=Reply(delay=0.5)) as hook:
        settings = make_settings(tmp_path, f"- {{name: hook, type: webhook, url: '{hook.url}'}}")
        seed(settings, 5)

        async def scenario() -> None:
            async with runtime(settings) as rt:
                deliverer = Deliverer(rt)
                deliverer.start()
                await asyncio.to_thread(hook.wait_for, 1, 5)
                await deliverer.stop(5)

        asyncio.run(scenario())
    assert len(hook.requests) == 1
    assert states(settings) == {"hook": [DeliveryState.SENT] + [DeliveryState.PENDING] * 4}


def test_follow_up_on_the_same_story_threads_under_the_first(tmp_path: Path) -> None:
    """A later alert on a story already alerted to the same destination carries the first
    alert's id as its thread."""
    settings = make_settings(
        tmp_path,
        "- {name: term, type: console}",
        watches="""
        - {name: belarus, keywords: [Lukashenko]}
        - {name: leaders, keywords: [Lukashenko]}
        """,
    )
    (first,) = seed(settings, 1, watch="belarus")
    store = SQLiteStore(settings.database)
    story = store.db.execute("SELECT story_id FROM alerts WHERE id = ?", [first]).fetchone()[0]
    article = store.db.execute("SELECT article_id FROM alerts WHERE id = ?", [first]).fetchone()[0]
    store.db.execute(
        "INSERT INTO alerts (id, watch, story_id, article_id, matched, snippet, created_at)"
        " VALUES ('second', 'leaders', ?, ?, '[]', '', '2030-01-01T00:00:00+00:00')",
        [story, article],
    )
    store.db.execute(
        "INSERT INTO deliveries (alert_id, destination, next_attempt_at, created_at)"
        " VALUES ('second', 'term', '2030-01-01', '2030-01-01')"
    )
    store.db.commit()
    by_alert = {d.alert.id: d.alert for d in store.deliveries()}
    store.close()
    assert by_alert["second"].thread_id == first
    assert by_alert[first].thread_id is None


def test_alert_for_a_removed_destination_waits(tmp_path: Path) -> None:
    """Deliveries owed to a destination no longer configured stay pending, untouched."""
    settings = make_settings(tmp_path, "- {name: term, type: console}")
    seed(settings, 1, destinations=["gone"])

    async def once() -> None:
        async with runtime(settings) as rt:
            await deliver_all(rt)

    asyncio.run(once())
    assert states(settings) == {"gone": [DeliveryState.PENDING]}


def test_digest_of_one_watch_renders_for_every_medium(tmp_path: Path) -> None:
    """Console, Slack and email digests list every alert of the digest."""
    from newswatch.models import Digest
    from newswatch.notify.console import console_digest_text, console_text
    from newswatch.notify.email import email_digest_message
    from newswatch.notify.slack import slack_digest_message

    alerts = tuple(replace(make_alert(), id=f"a{n}", thread_id=None) for n in range(3))
    digest = Digest("digest-1", "belarus", alerts, NOW)
    text = console_digest_text(digest, console_text)
    assert text.startswith("[belarus] digest: 3 alerts") and text.count("Lukashenko claims") == 3
    slack = slack_digest_message(digest)
    assert len(slack["blocks"]) == 4 and "3 alerts" in slack["text"]
    mail = email_digest_message(digest, "nw@example.org", ["a@example.org"])
    assert mail["Message-ID"] == "<digest-1@newswatch>"
    assert mail["Subject"].startswith("[newswatch] belarus: 3 alerts — ")
    assert "In-Reply-To" not in mail
