"""User templates for alert messages: Jinja2 in a sandbox, with escaping that cannot be
turned off.

Every ``{{ ... }}`` output passes through the medium's escape function (Slack's ``& < >``,
HTML, or nothing for plain text) in Jinja's ``finalize`` hook, which applies whatever the
template says: ``|safe``, ``Markup`` and ``{% autoescape false %}`` cannot switch it off
(``safe``, ``e`` and ``escape`` are plain no-ops here, so nothing is escaped twice). The
only values that pass unescaped are the ``link(url, label)`` helper's results, built by
newswatch from a checked http(s) URL and an escaped label. Templates see plain data
(strings, lists, dicts of cleaned, one-line feed text), never Python objects, and the
sandbox refuses attribute tricks. A template that fails at render time falls back to the
built-in format: a template mistake never loses an alert.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any, Literal

import jinja2
import jinja2.sandbox

from newswatch.models import Alert
from newswatch.notify.clean import (
    SNIPPET_MAX,
    TITLE_MAX,
    clean_line,
    cut,
    human_time,
    iso_z,
    matched_terms,
    safe_link,
    slack_escape,
    slack_target,
)

log = logging.getLogger(__name__)

Medium = Literal["slack", "html", "text"]
_SLACK_URL_MAX = 1500


class Trusted(str):
    """Text newswatch itself made safe for the medium (a link); passed through as is."""

    __slots__ = ()


def _plain(text: str) -> str:
    return text


_ESCAPES: dict[Medium, Callable[[str], str]] = {
    "slack": slack_escape,
    "html": lambda text: html.escape(text, quote=True),
    "text": _plain,
}


def _link(medium: Medium) -> Callable[[object, object], Trusted]:
    escape = _ESCAPES[medium]

    def link(url: object = None, label: object = None) -> Trusted:
        """A link to ``url`` (only http/https) labelled ``label``; the label alone else."""
        text = clean_line(str(label)) if label not in (None, "") else clean_line(str(url or ""))
        target = safe_link(url if isinstance(url, str) else None)
        if medium == "slack":
            shown = slack_escape(text)
            if target is None:
                return Trusted(shown)
            encoded = slack_target(target)
            return Trusted(f"<{encoded}|{shown}>" if len(encoded) <= _SLACK_URL_MAX else shown)
        if medium == "html":
            shown = escape(text)
            return Trusted(f'<a href="{escape(target)}">{shown}</a>' if target else shown)
        return Trusted(f"{text} <{target}>" if target and target != text else text)

    return link


def _finalize(escape: Callable[[str], str]) -> Callable[[object], str]:
    def finalize(value: object) -> str:
        if isinstance(value, Trusted):
            return str(value)
        if value is None:
            return ""
        return escape(str(value))

    return finalize


def environment(medium: Medium) -> jinja2.sandbox.ImmutableSandboxedEnvironment:
    """A sandboxed Jinja2 environment whose every output is escaped for ``medium``."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        autoescape=False,
        finalize=_finalize(_ESCAPES[medium]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )
    for name in ("safe", "e", "escape", "forceescape"):
        env.filters[name] = _plain
    env.globals["link"] = _link(medium)
    return env


class AlertTemplate:
    """One user template for one medium, compiled once."""

    def __init__(self, source: str, medium: Medium, *, destination: str, what: str) -> None:
        self._template = environment(medium).from_string(source)
        self._destination = destination
        self._what = what

    def render(self, alert: Alert) -> str | None:
        """The template's output for ``alert``, or None (logged) if it fails to render."""
        try:
            return self._template.render(alert=template_context(alert))
        except Exception as exc:  # any template mistake: fall back, never lose the alert
            log.warning(
                "template failed, using the built-in format destination=%s template=%s "
                "error=%s: %s",
                self._destination,
                self._what,
                type(exc).__name__,
                clean_line(str(exc))[:300],
            )
            return None


def template_context(alert: Alert) -> dict[str, Any]:
    """What a template sees as ``alert``: cleaned, one-line, bounded text; links only when
    they are http(s) (else None)."""
    article = alert.article
    return {
        "id": alert.id,
        "watch": clean_line(alert.watch),
        "title": cut(clean_line(article.title) or "(untitled)", TITLE_MAX),
        "url": safe_link(article.link),
        "summary": cut(clean_line(article.summary), 1500),
        "author": cut(clean_line(article.author), 200),
        "published": human_time(article.published) if article.published else "",
        "published_iso": iso_z(article.published) or "",
        "feed": {"name": cut(clean_line(alert.feed.name), 200), "url": safe_link(alert.feed.url)},
        "matched": [
            {"term": clean_line(h.term), "field": h.field, "text": clean_line(h.text)}
            for h in alert.matched[:50]
        ],
        "matched_text": cut(matched_terms(alert.matched), 1000),
        "snippet": cut(clean_line(alert.snippet), SNIPPET_MAX),
        "also": [
            {
                "title": cut(clean_line(s.title) or "(untitled)", 200),
                "url": safe_link(s.url),
                "feed": {"name": cut(clean_line(s.feed.name), 100), "url": safe_link(s.feed.url)},
            }
            for s in alert.also[:10]
        ],
    }
