"""The ``newswatch`` command: a thin click layer over the pipeline and the store.

Exit codes live here and only here: 0 success, 1 a runtime failure, 2 a usage or
configuration error. This module (with ``daemon``) is the only one that reads the
environment and the wall clock or configures logging.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TextIO, TypeVar

import click

from newswatch import __version__
from newswatch.app import records
from newswatch.app.clock import utcnow
from newswatch.config import Settings, describe, describe_records, load_config, parse_duration
from newswatch.errors import ConfigError, NewswatchError
from newswatch.match import check_watchlist
from newswatch.models import DeliveryState
from newswatch.store import Store
from newswatch.store import open_store as open_database

log = logging.getLogger("newswatch")
T = TypeVar("T")

DEFAULT_CONFIG = Path("config/watchlist.yaml")


class JournalFormatter(logging.Formatter):
    """``<N>`` syslog priority prefixes, which journald turns into log levels."""

    PRIORITIES: ClassVar[dict[int, int]] = {
        logging.DEBUG: 7,
        logging.INFO: 6,
        logging.WARNING: 4,
        logging.ERROR: 3,
        logging.CRITICAL: 2,
    }

    def format(self, record: logging.LogRecord) -> str:
        priority = self.PRIORITIES.get(record.levelno, 6)
        text = super().format(record)
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines())


def setup_logging(verbose: bool) -> None:
    """Log to stderr: plain lines for a terminal, priority-prefixed lines under journald."""
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        formatter = logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ"
        )
        formatter.converter = time.gmtime  # UTC, whatever $TZ says
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # httpx logs every request URL at INFO, and a webhook URL can be a credential.
    noisy_loggers = (
        "httpx",
        "httpcore",
        "apscheduler",
        "aiosmtpd",
        "mail.log",
        "asyncio",
        "pymorphy3",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    click.echo(f"newswatch: {message}", err=True)
    sys.exit(code)


def config_path(ctx: click.Context) -> Path:
    """``--config``, else ``$NEWSWATCH_CONFIG``, else ``config/watchlist.yaml`` here."""
    value = ctx.obj.get("config")
    return Path(value) if value else DEFAULT_CONFIG


def settings_from(ctx: click.Context, *, secrets: bool = True) -> Settings:
    """Load and validate the configuration (queries compiled too), or exit 2 naming every
    problem. Commands that deliver nothing pass ``secrets=False``: they work without the
    destinations' secrets in the environment."""
    path = config_path(ctx)
    try:
        return load_config(path, os.environ, checks=(check_watchlist,), secrets=secrets)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except OSError as exc:
        fail(f"cannot read configuration {path}: {exc.strerror or exc}", 2)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; a NewswatchError becomes exit code 1 with its message."""
    try:
        return asyncio.run(coro)
    except NewswatchError as exc:
        fail(str(exc))


def open_store(settings: Settings) -> Store:
    """The store of ``settings``, or exit 1 if it cannot be opened."""
    try:
        return open_database(settings.database)
    except NewswatchError as exc:
        fail(str(exc))


def existing_store(settings: Settings) -> Store:
    """The store of ``settings`` for a command that only reads: never created or migrated
    here (SPEC §2). A missing database file, a PostgreSQL database without newswatch's
    tables and one an older newswatch made are errors that name the database and what to
    run (exit 1)."""
    if isinstance(settings.database, Path) and not settings.database.exists():
        fail(
            f"no database at {settings.database}: newswatch has not run with this "
            "configuration yet (`newswatch run --once` creates it)"
        )
    try:
        return open_database(settings.database, migrate=False)
    except NewswatchError as exc:
        fail(str(exc))


def echo_json(record: Mapping[str, Any]) -> None:
    """One JSON object on one line."""
    click.echo(json.dumps(record, ensure_ascii=False))


class NewswatchGroup(click.Group):
    """Turns an error newswatch raises on purpose into its message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewswatchError as exc:
            fail(str(exc))


@click.group(cls=NewswatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    envvar="NEWSWATCH_CONFIG",
    help="Configuration file [default: $NEWSWATCH_CONFIG, else config/watchlist.yaml].",
)
@click.option("--verbose", "-v", is_flag=True, help="Log debug detail.")
@click.version_option(__version__, prog_name="newswatch")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """newswatch: watch news feeds and alert once per story when your watchlist matches."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    setup_logging(verbose)


@main.command()
@click.option("--once", is_flag=True, help="Poll every feed once, deliver pending alerts, exit.")
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Run the daemon in the foreground (or one pass with --once)."""
    settings = settings_from(ctx)
    if once:
        from newswatch.pipeline.once import run_once

        summary = run_async(run_once(settings, clock=utcnow))
        click.echo(summary.describe(), err=True)
        if summary.outage:
            fail("no feed could be fetched: every poll failed")
        return
    from newswatch.app.daemon import run_daemon

    run_async(run_daemon(config_path(ctx), settings, dict(os.environ)))


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per feed, watch, destination."
)
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> None:
    """Validate the configuration and summarise feeds, watches and destinations."""
    settings = settings_from(ctx)
    if as_json:
        for record in describe_records(settings):
            echo_json(record)
        return
    click.echo(f"{config_path(ctx)}: OK")
    click.echo(describe(settings))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per feed.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """One line per feed: state, last fetch and success, HTTP status, errors, items, next poll."""
    from newswatch.app.status import feed_statuses, table, to_json

    settings = settings_from(ctx, secrets=False)
    store = existing_store(settings)
    try:
        states = {s.url: s for s in store.feed_states()}
    finally:
        store.close()
    now = utcnow()
    rows = feed_statuses(settings, states, now)
    if as_json:
        for row in rows:
            echo_json(to_json(row))
        return
    for line in table(rows, now):
        click.echo(line)


@main.group(invoke_without_command=True)
@click.option(
    "--state",
    type=click.Choice([s.value for s in DeliveryState]),
    help="Only deliveries in this state.",
)
@click.option("--limit", default=50, show_default=True, help="How many to list.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per delivery.")
@click.option(
    "--story",
    metavar="ID",
    help="Show the copies of one story (a story number or an alert id) and why each joined.",
)
@click.pass_context
def alerts(
    ctx: click.Context, state: str | None, limit: int, as_json: bool, story: str | None
) -> None:
    """List recent alerts and their delivery state (newest first): destination, state,
    attempts, next attempt, last error; then any destination paused after failures."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from(ctx, secrets=False)
    if story is not None:
        _story(settings, story, as_json)
        return
    store = existing_store(settings)
    try:
        rows = store.deliveries(DeliveryState(state) if state else None, limit=limit)
        paused = [store.destination_state(d.name) for d in settings.destinations]
    finally:
        store.close()
    if as_json:
        for d in rows:
            echo_json(records.delivery_json(d))
        return
    for d in rows:
        for line in records.delivery_lines(d):
            click.echo(line)
    if not rows:
        click.echo("no alerts", err=True)
    now = utcnow()
    for dest in paused:
        if dest.paused_until is not None and dest.paused_until > now:
            click.echo(
                f"destination {dest.name} paused until {records.when(dest.paused_until)} "
                f"after {dest.failures} failed attempts: {dest.last_error}"
            )


def _story(settings: Settings, story: str, as_json: bool) -> None:
    """``alerts --story``: a story's copies, oldest first, each with why it joined."""
    store = existing_store(settings)
    try:
        copies = store.story_copies(story)
    finally:
        store.close()
    if not copies:
        raise click.ClickException(f"no story {story}")
    for copy in copies:
        if as_json:
            echo_json(records.story_copy_json(copy))
        else:
            click.echo(records.story_copy_line(copy))


@alerts.command("retry")
@click.argument("ids", nargs=-1)
@click.pass_context
def alerts_retry(ctx: click.Context, ids: tuple[str, ...]) -> None:
    """Put dead alerts (these IDs, or all) back into the delivery queue."""
    settings = settings_from(ctx)
    store = open_store(settings)
    try:
        count = store.retry_dead(list(ids), utcnow())
    finally:
        store.close()
    click.echo(f"{count} deliveries queued again")


def _one_watch(settings: Settings, name: str | None) -> None:
    """Exit 2 unless ``name`` (if given) is a watch of ``settings``."""
    names = [w.name for w in settings.watches]
    if name is not None and name not in names:
        fail(f"no watch named '{name}'; watches: {', '.join(names) or 'none'}", 2)


@main.command()
@click.option("--text", help="The text to explain, taken as an article's content.")
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    help="Read the text from a file instead ('-' for standard input).",
)
@click.option("--title", default="", help="An article title too (for title: terms).")
@click.option("--summary", default="", help="An article summary too (for summary: terms).")
@click.option("--watch", "watch", metavar="NAME", help="Only this watch.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per watch.")
@click.pass_context
def explain(
    ctx: click.Context,
    text: str | None,
    file: TextIO | None,
    title: str,
    summary: str,
    watch: str | None,
    as_json: bool,
) -> None:
    """Show which watches match a text and why: terms, fields, positions, failing parts.
    Exits like grep: 0 when some watch matches, 1 when none does."""
    if (text is None) == (file is None):
        raise click.UsageError("give the text with --text TEXT or --file PATH (one of them)")
    content = text if text is not None else file.read() if file is not None else ""
    settings = settings_from(ctx, secrets=False)
    _one_watch(settings, watch)
    from newswatch.match import compile_watchlist, explain_text, format_reports

    fields = {"title": title, "summary": summary, "content": content}
    reports = explain_text(compile_watchlist(settings), fields, watch)
    if as_json:
        for report in reports:
            echo_json(records.report_json(report))
    else:
        click.echo(format_reports(reports) if reports else "no watches configured")
    sys.exit(0 if any(r.matched for r in reports) else 1)


def _since(ctx: click.Context, param: click.Parameter, value: str) -> timedelta | None:
    """``--since``: a duration, or ``all``."""
    if value.strip().lower() == "all":
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@main.command()
@click.option(
    "--since",
    "window",
    default="7d",
    show_default=True,
    callback=_since,
    help="How far back: a duration (30m, 12h, 7d) or 'all'.",
)
@click.option("--watch", "watch", metavar="NAME", help="Only this watch.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per would-be alert.")
@click.pass_context
def replay(ctx: click.Context, window: timedelta | None, watch: str | None, as_json: bool) -> None:
    """Run the watchlist as it is now over stored articles; print what would alert, send
    nothing."""
    settings = settings_from(ctx, secrets=False)
    _one_watch(settings, watch)
    from newswatch.pipeline.replay import replay as replay_articles

    start = None if window is None else utcnow() - window
    store = existing_store(settings)
    try:
        result = replay_articles(settings, store, start, watch)
    finally:
        store.close()
    for alert in result.alerts:
        if as_json:
            echo_json(records.would_alert_json(alert))
        else:
            for line in records.would_alert_lines(alert):
                click.echo(line)
    click.echo(
        f"replayed {result.articles} stored articles "
        f"{'(all)' if start is None else 'since ' + records.when(start)} against "
        f"{result.watches} watches: {len(result.alerts)} would-be alerts; nothing was sent",
        err=True,
    )


@main.command("try")
@click.argument("sources", nargs=-1, required=True, metavar="(URL|PATH)...")
@click.option("--watch", "watch", metavar="NAME", help="Only this watch.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
@click.pass_context
def try_(ctx: click.Context, sources: tuple[str, ...], watch: str | None, as_json: bool) -> None:
    """Fetch (or read) feeds once and show every entry as newswatch sees it, and which
    watches would alert on it and why. Stores nothing, sends nothing. Exits like grep: 0
    when some watch would alert, 1 when none would."""
    settings = settings_from(ctx, secrets=False)
    _one_watch(settings, watch)
    from newswatch.pipeline.trial import try_sources

    tried = run_async(try_sources(settings, sources, clock=utcnow, watch=watch))
    for source in tried:
        if as_json:
            for record in records.tried_json(source):
                echo_json(record)
        else:
            for line in records.tried_lines(source):
                click.echo(line)
    sys.exit(0 if any(source.matched for source in tried) else 1)


@main.command()
@click.option("--keep", is_flag=True, help="Keep the demo's temporary folder and print it.")
@click.pass_context
def demo(ctx: click.Context, keep: bool) -> None:
    """Show newswatch working offline: your watchlist over bundled sample feeds on 127.0.0.1."""
    settings = settings_from(ctx)
    from newswatch.app.demo import run_demo

    if not ctx.find_root().params.get("verbose"):
        logging.getLogger("newswatch").setLevel(logging.WARNING)  # keep the screen for alerts

    run_async(run_demo(settings, clock=utcnow, out=sys.stdout, keep=keep))


@main.group()
def db() -> None:
    """The database itself: move it to PostgreSQL when one machine is not enough."""


@db.command("copy")
@click.argument("src")
@click.argument("dst")
def db_copy(src: str, dst: str) -> None:
    """Copy the SQLite database SRC (a file) into the new PostgreSQL database DST (a
    postgresql:// URL; the password from $PGPASSWORD or in the URL), keeping feeds'
    state, articles, stories and every alert, sent or pending."""
    from newswatch.config import PostgresUrl, parse_database
    from newswatch.store.copy import copy_database

    source, target = parse_database(src), parse_database(dst)
    if not isinstance(source, Path) or not isinstance(target, PostgresUrl):
        fail("newswatch db copy: SRC must be an SQLite file and DST a postgresql:// URL", 2)
    counts = copy_database(source, target)
    shown = ", ".join(f"{table} {n}" for table, n in counts.items())
    click.echo(f"copied {source} into {target}: {shown}")


@main.group()
def opml() -> None:
    """Feed lists in OPML, the format feed readers import and export."""


@opml.command("export")
@click.pass_context
def opml_export(ctx: click.Context) -> None:
    """Print every configured feed (YAML and OPML, enabled or not) as an OPML 2.0 document."""
    from newswatch.config import opml_document

    click.echo(opml_document(settings_from(ctx, secrets=False).feeds))


if __name__ == "__main__":  # pragma: no cover
    main()
