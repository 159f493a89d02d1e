"""End to end through the CLI: one story carried by many outlets alerts once (SPEC §4).

Real feed server, webhook receiver, SMTP server and SQLite file; `newswatch run --once`.
The articles are the Belarus story of the labelled set (tests/data/stories/belarus_leak.yaml).
"""

from __future__ import annotations

import sqlite3
import struct
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from newswatch import cluster
from newswatch.models import Article
from support.cli import newswatch
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import SmtpServer, WebhookReceiver
from support.stories import FOLDER, load_file

SET = load_file(FOLDER / "belarus_leak.yaml")
LEAK = {i.kind: i.article for i in SET if i.story.endswith(":leak") and i.kind != "swapped"}
# The seed case: retitled, run through a word-swapping rewriter ("paperwork" for
# "documents", "navy" for "military"), wrapped in boilerplate.
SPUN = next(i.article for i in SET if i.article.entry_key == "belarus_leak:leak:8")
PARDON = next(i.article for i in SET if i.story.endswith(":pardon") and i.kind == "original")
FIVE = ["original", "wire", "retitled", "truncated", "boilerplate"]


def item(n: int, article: Article) -> Item:
    return Item(
        guid=f"outlet{n}-1",
        title=article.title,
        link=f"https://outlet{n}.example/news/1",
        summary=article.content or article.summary,
    )


class World:
    """Six outlets' feeds, a webhook, an SMTP server and a config naming some feeds."""

    def __init__(self, tmp: Path, feeds: FeedServer, hook: WebhookReceiver, smtp: SmtpServer):
        self.tmp, self.feeds, self.hook, self.smtp = tmp, feeds, hook, smtp
        self.config = tmp / "watchlist.yaml"

    def serve(self, n: int, *articles: Article) -> None:
        self.feeds.add(f"/o{n}", rss(f"Outlet {n}", [item(n, a) for a in articles]))

    def write_config(self, outlets: int, stories: str = "") -> None:
        feeds = "\n".join(
            f"  - {{url: '{self.feeds.url(f'/o{n}')}', name: Outlet {n}}}"
            for n in range(1, outlets + 1)
        )
        self.config.write_text(
            textwrap.dedent("""\
            database: state.db
            poll: {first_run: all}
            """)
            + stories
            + f"feeds:\n{feeds}\n"
            + textwrap.dedent(f"""\
            watches:
              - {{name: belarus, keywords: [Belarus, Belarusian, Lukashenko]}}
              - {{name: navy, keywords: [navy]}}
            destinations:
              - {{name: hook, type: webhook, url: "{self.hook.url}"}}
              - name: mail
                type: email
                to: [analyst@example.org]
                from: newswatch@example.org
                host: 127.0.0.1
                port: {self.smtp.port}
                security: none
            """)
        )

    def run_once(self) -> str:
        result = newswatch(self.config, "run", "--once")
        assert result.returncode == 0, result.stderr
        return result.stderr

    def alerts(self) -> str:
        result = newswatch(self.config, "alerts")
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with FeedServer() as feeds, WebhookReceiver() as hook, SmtpServer() as smtp:
        w = World(tmp_path, feeds, hook, smtp)
        for n, kind in enumerate(FIVE, start=1):
            w.serve(n, LEAK[kind])
        w.serve(6, SPUN)
        yield w


def test_five_outlets_in_one_poll_give_one_alert(world: World) -> None:
    """Five outlets carrying one story (copy, retitled, teaser, boilerplate), polled at
    once: one webhook POST and one email, naming the four others in 'also'."""
    world.write_config(outlets=5)
    assert "1 new alert." in world.run_once()
    (post,) = world.hook.requests
    also = {s["feed"]["name"] for s in post.json()["also"]}
    assert len(also) == 4 and post.json()["article"]["feed"]["name"] not in also
    assert len(world.smtp.messages) == 1


def test_sixth_outlet_later_alerts_nobody_and_is_listed_on_the_story(world: World) -> None:
    """A rewritten copy in a sixth outlet, in a later run: no alert for the watch that
    alerted the story; `alerts` lists it among the story's other outlets."""
    world.write_config(outlets=5)
    world.run_once()
    world.write_config(outlets=6)
    world.hook.requests.clear()
    output = world.run_once()
    assert world.feeds.count("/o6") == 1
    assert [p.json()["watch"] for p in world.hook.requests] == ["navy"]  # never "belarus"
    assert "1 new alert." in output
    listed = world.alerts()
    assert f"also: Outlet 6: {SPUN.title[:80]}" in listed


def test_later_alert_on_the_story_carries_also_and_threads(world: World) -> None:
    """Another watch that first matches the sixth copy alerts with the five earlier copies
    in 'also', and its email replies to the story's first email."""
    world.write_config(outlets=5)
    world.run_once()
    world.write_config(outlets=6)
    world.run_once()
    first, later = world.hook.requests
    assert later.json()["watch"] == "navy"
    assert len(later.json()["also"]) == 5
    mails = {m.message["Message-ID"]: m.message for m in world.smtp.wait_for(2)}
    (reply,) = [m for m in mails.values() if m["In-Reply-To"]]
    assert reply["In-Reply-To"] == f"<{first.json()['id']}@newswatch>"
    assert reply["In-Reply-To"] in mails


def test_two_different_stories_give_two_alerts(world: World) -> None:
    """A different Belarus story (same names, same day) is alerted on its own."""
    world.serve(2, PARDON)
    world.write_config(outlets=2)
    world.run_once()
    titles = sorted(p.json()["article"]["title"] for p in world.hook.requests)
    assert titles == sorted([LEAK["original"].title, PARDON.title])


def test_stories_off_alerts_every_outlet(world: World) -> None:
    """With `stories: off` each outlet's copy is its own story and alerts."""
    world.write_config(outlets=5, stories="stories: off\n")
    world.run_once()
    assert len(world.hook.requests) == 5


def test_stories_indexed_by_an_older_version_are_keyed_again(world: World) -> None:
    """After an upgrade that changes the story keys (KEY_FORMAT), the window's articles
    are keyed again from their stored text at start: a copy arriving afterwards still
    joins their story. Simulated by giving the stored article keys of another version
    (format 1, values no current article has)."""
    world.write_config(outlets=1)
    world.run_once()
    with sqlite3.connect(world.tmp / "state.db") as db:
        ((article_id, count),) = db.execute(
            "SELECT s.article_id, COUNT(k.key) FROM story_index s"
            " JOIN story_keys k ON k.article_id = s.article_id GROUP BY s.article_id"
        ).fetchall()
        old = [(-(n + 1), article_id) for n in range(count)]
        db.execute("DELETE FROM story_keys WHERE article_id = ?", [article_id])
        db.executemany("INSERT INTO story_keys (key, article_id) VALUES (?, ?)", old)
        db.execute(
            "UPDATE story_index SET key_format = 1, keys = ? WHERE article_id = ?",
            [struct.pack(f"<{count}q", *(k for k, _ in old)), article_id],
        )
    world.write_config(outlets=2)
    world.hook.requests.clear()
    log = world.run_once()
    assert "story index keyed again articles=1" in log
    assert [p.json()["watch"] for p in world.hook.requests] == []  # the copy joined
    with sqlite3.connect(world.tmp / "state.db") as db:
        formats = {f for (f,) in db.execute("SELECT key_format FROM story_index")}
        stale = db.execute("SELECT COUNT(*) FROM story_keys WHERE key < 0 AND key > -100")
        assert formats == {cluster.KEY_FORMAT} and stale.fetchone() == (0,)
    assert "story index keyed again" not in world.run_once()  # once per database
