"""End to end through the CLI (issue 13): a spun copy joins its original's story; in a
burst the alert carries the earliest-published copy, the others as "also"; `replay` picks
the same copy and count and honours `first_run`; `alerts --story` says why each joined.
Copies that begin a story each (a teaser and a spun copy, each like the original but not
like each other) merge when the original arrives after them: one alert, or, if both had
been sent already, no third one.

Real loopback feeds, a webhook receiver and a SQLite file; `newswatch run --once`.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswatch.models import Article
from support.cli import newswatch
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import WebhookReceiver
from support.spinner import spin
from support.stories import FOLDER, load_file, split_pair

SET = load_file(FOLDER / "hard_negatives.yaml")
PARDON = next(i.article for i in SET if i.story.endswith(":pardon") and i.kind == "original")
DRILLS = next(i.article for i in SET if i.story.endswith(":drills") and i.kind == "original")
NOW = datetime.now(UTC)


def spun(article: Article) -> Article:
    text = spin(article.content, 0.25, "e2e").text
    return Article(article.feed_url, "spun", None, None, "Belarus chief frees 23", content=text)


def feed(n: int, article: Article | None, published: datetime) -> bytes:
    if article is None:
        return rss(f"Outlet {n}", [])
    item = Item(f"o{n}-1", article.title, f"https://o{n}.example/1", article.content, published)
    return rss(f"Outlet {n}", [item])


def story_rows(cfg: Path, story: str) -> list[dict[str, object]]:
    shown = newswatch(cfg, "alerts", "--story", story, "--json")
    assert shown.returncode == 0, shown.stderr
    return [json.loads(line) for line in shown.stdout.splitlines()]


def config(tmp: Path, feeds: FeedServer, hook: WebhookReceiver, n: int, first_run: str) -> Path:
    path = tmp / "watchlist.yaml"
    listed = "\n".join(
        f"  - {{url: '{feeds.url(f'/o{i}')}', name: Outlet {i}}}" for i in range(1, n + 1)
    )
    path.write_text(
        f"database: state.db\npoll: {{first_run: {first_run}}}\nfeeds:\n{listed}\n"
        + textwrap.dedent(f"""\
        watches:
          - {{name: belarus, keywords: [Lukashenko, Belarus]}}
        destinations:
          - {{name: hook, type: webhook, url: "{hook.url}"}}
        """)
    )
    return path


def test_burst_alerts_once_with_the_earliest_copy_and_replay_agrees(tmp_path: Path) -> None:
    """The original (published first), a spun copy fetched first, and a different story
    about the same man on the same day: two alerts; the pardon's carries the original,
    the spun copy is "also"; `alerts --story` shows the spun copy joined by anchors."""
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/o1", feed(1, spun(PARDON), NOW - timedelta(hours=1)))
        feeds.add("/o2", feed(2, PARDON, NOW - timedelta(hours=3)))
        feeds.add("/o3", feed(3, DRILLS, NOW - timedelta(hours=2)))
        cfg = config(tmp_path, feeds, hook, 3, "24h")
        result = newswatch(cfg, "run", "--once")
        assert result.returncode == 0, result.stderr
        posts = [p.json() for p in hook.requests]
        titles = sorted(p["article"]["title"] for p in posts)
        assert titles == sorted([PARDON.title, DRILLS.title])
        pardon = next(p for p in posts if p["article"]["title"] == PARDON.title)
        assert [s["feed"]["name"] for s in pardon["also"]] == ["Outlet 1"]
        replay = newswatch(cfg, "replay", "--since", "all", "--json")
        would = [json.loads(line) for line in replay.stdout.splitlines()]
        assert sorted(w["title"] for w in would) == titles
        assert next(w for w in would if w["title"] == PARDON.title)["copies"] == 1
        story = next(w for w in would if w["title"] == PARDON.title)["story"]
        shown = newswatch(cfg, "alerts", "--story", str(story))
        assert shown.returncode == 0, shown.stderr
        assert " joined #" in shown.stdout and "began the story" in shown.stdout
        rows = [
            json.loads(x)
            for x in newswatch(cfg, "alerts", "--story", str(story), "--json").stdout.splitlines()
        ]
        assert sorted(r["joined_by"] is None for r in rows) == [False, True]
        assert all(r["score"] > 0 for r in rows if r["joined_by"])


def test_replay_honours_first_run_like_the_daemon(tmp_path: Path) -> None:
    """A story published two days ago, met in the feed's first fetch: with first_run 24h
    the daemon sends nothing, and replay would alert nothing either."""
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/o1", feed(1, PARDON, NOW - timedelta(days=2)))
        cfg = config(tmp_path, feeds, hook, 1, "24h")
        assert newswatch(cfg, "run", "--once").returncode == 0
        assert hook.requests == []
        replay = newswatch(cfg, "replay", "--since", "all", "--json")
        assert replay.stdout.strip() == ""


TEASER, SPUN = split_pair(PARDON)


def test_copies_that_split_a_story_merge_when_the_original_arrives(tmp_path: Path) -> None:
    """A teaser and a spun copy fetched first (each begins a story), the original last,
    all before delivery: one alert, carrying the original (published first), the two
    others as "also"; the spun copy's story is shown merged in by the original; replay
    agrees."""
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/o1", feed(1, TEASER, NOW - timedelta(hours=1)))
        feeds.add("/o2", feed(2, SPUN, NOW - timedelta(hours=2)), delay=1.0)
        feeds.add("/o3", feed(3, PARDON, NOW - timedelta(hours=3)), delay=2.0)
        cfg = config(tmp_path, feeds, hook, 3, "24h")
        result = newswatch(cfg, "run", "--once")
        assert result.returncode == 0, result.stderr
        posts = [p.json() for p in hook.requests]
        assert len(posts) == 1
        assert posts[0]["article"]["url"] == "https://o3.example/1"
        assert sorted(s["feed"]["name"] for s in posts[0]["also"]) == ["Outlet 1", "Outlet 2"]
        replay = newswatch(cfg, "replay", "--since", "all", "--json")
        would = [json.loads(line) for line in replay.stdout.splitlines()]
        assert [(w["title"], w["copies"]) for w in would] == [(PARDON.title, 2)]
        rows = story_rows(cfg, str(would[0]["story"]))
        assert [r["url"] for r in rows][-1] == "https://o3.example/1"  # seen last
        by_url = {r["url"]: r for r in rows}
        original = by_url["https://o3.example/1"]["article"]
        assert by_url["https://o2.example/1"]["joined_by"] == "merged"
        assert by_url["https://o2.example/1"]["joined_to"] == original
        text = newswatch(cfg, "alerts", "--story", str(would[0]["story"])).stdout
        assert f"merged in by #{original}" in text


def test_stories_both_alerted_merge_without_a_third_alert(tmp_path: Path) -> None:
    """Teaser and spun copy alerted (and sent) as two stories in one run; the original in
    the next run merges them: nothing more is sent, both alerts stay listed, and one
    story holds the three copies."""
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/o1", feed(1, TEASER, NOW - timedelta(hours=1)))
        feeds.add("/o2", feed(2, SPUN, NOW - timedelta(hours=2)))
        feeds.add("/o3", feed(3, None, NOW))
        cfg = config(tmp_path, feeds, hook, 3, "24h")
        assert newswatch(cfg, "run", "--once").returncode == 0
        assert len(hook.requests) == 2
        feeds.add("/o3", feed(3, PARDON, NOW - timedelta(hours=3)))
        result = newswatch(cfg, "run", "--once")
        assert result.returncode == 0, result.stderr
        assert len(hook.requests) == 2
        listed = newswatch(cfg, "alerts", "--json")
        alerts = [json.loads(line) for line in listed.stdout.splitlines()]
        assert sorted(a["state"] for a in alerts) == ["sent", "sent"]
        rows = story_rows(cfg, alerts[0]["id"])
        assert len(rows) == 3 and rows == story_rows(cfg, alerts[1]["id"])
