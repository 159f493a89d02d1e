"""Checks that span sections of the configuration: names used once, references defined.

pydantic validates each section on its own; what a watch's ``notify``, ``feeds`` and
``@group`` words refer to, and whether two items share a name or a URL, is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from newswatch.config.wording import SECTIONS, one_of, suggest
from newswatch.config.yamldoc import Document, Issue, Loc, items_of, texts_of

__all__ = ["cross_check"]

_GROUP_NAME: Final = re.compile(r"^\w[\w-]*$")


def cross_check(doc: Document, more_feeds: Sequence[str] = ()) -> list[Issue]:
    """Checks that span sections: names unique, references defined. ``more_feeds`` are
    the names and URLs of feeds from elsewhere (OPML files) that watches may name."""
    issues: list[Issue] = []
    _check_database(doc, issues)
    destinations = _unique_names(doc, "destinations", issues)
    _unique_names(doc, "watches", issues)
    feeds = _check_feeds(doc, issues) + list(more_feeds)
    groups = _check_terms(doc, issues)
    for i, watch in items_of(doc.data, "watches"):
        where = ("watches", i)
        _check_refs(doc, where, "notify", watch.get("notify"), "destination", destinations, issues)
        _check_refs(doc, where, "feeds", watch.get("feeds"), "feed", feeds, issues)
        for field in ("keywords", "exclude"):
            _check_groups(doc, where, field, watch.get(field), groups, issues)
    health = doc.data.get("health")
    if isinstance(health, dict):
        notify = health.get("notify")
        _check_refs(doc, ("health",), "notify", notify, "destination", destinations, issues)
    return issues


def _check_database(doc: Document, issues: list[Issue]) -> None:
    value = doc.data.get("database")
    if not isinstance(value, str):
        return
    node = doc.node(("database",))
    if not value.strip():
        issues.append(Issue(("database",), "must not be empty", node))
    elif value.startswith("~"):  # (a postgresql:// URL never does)
        message = "'~' is not expanded: write the full path, e.g. /var/lib/newswatch/newswatch.db"
        issues.append(Issue(("database",), message, node))


def _unique_names(doc: Document, section: str, issues: list[Issue]) -> list[str]:
    """The names in a list section; reports every name used twice."""
    seen: dict[str, int] = {}
    for i, item in items_of(doc.data, section):
        name = item.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            first = seen[name]
            line = doc.line((section, first, "name"))
            message = (
                f"the name '{name}' is already used by {SECTIONS[section]} {first + 1} "
                f"(line {line}): names must be unique"
            )
            issues.append(Issue((section, i), message, doc.node((section, i, "name"))))
        else:
            seen[name] = i
    return list(seen)


def _check_feeds(doc: Document, issues: list[Issue]) -> list[str]:
    """Feed names and URLs (what a watch may refer to); reports duplicate URLs."""
    names = _unique_names(doc, "feeds", issues)
    urls: dict[str, int] = {}
    for i, feed in items_of(doc.data, "feeds"):
        url = feed.get("url")
        if not isinstance(url, str):
            continue
        if url.strip() in urls:
            first = urls[url.strip()]
            line = doc.line(("feeds", first, "url"))
            message = f"the same url is already feed {first + 1} (line {line}): list it once"
            issues.append(Issue(("feeds", i), message, doc.node(("feeds", i, "url"))))
        else:
            urls[url.strip()] = i
    return names + list(urls)


def _check_terms(doc: Document, issues: list[Issue]) -> list[str]:
    """The term group names; reports names that ``@name`` could not refer to."""
    terms = doc.data.get("terms")
    if not isinstance(terms, dict):
        return []
    for name in terms:
        if not _GROUP_NAME.match(name):
            message = (
                f"group name '{name}' may hold only letters, digits, '_' and '-' "
                "(it is written @name in watches)"
            )
            issues.append(Issue(("terms",), message, doc.key_node(("terms", name))))
    return list(terms)


def _check_refs(
    doc: Document,
    where: Loc,
    field: str,
    value: Any,
    kind: str,
    known: list[str],
    issues: list[Issue],
) -> None:
    """Reports each name in the list ``field`` that is not a known ``kind``."""
    for i, name in texts_of(value):
        if name in known or (kind == "feed" and name.strip() in known):
            continue
        message = f"{field} names unknown {kind} '{name}'{_ref_hint(name, kind, known)}"
        issues.append(Issue(where, message, doc.node((*where, field, i))))


def _ref_hint(name: str, kind: str, known: list[str]) -> str:
    guess = suggest(name, known)
    if guess:
        return f" (did you mean '{guess}'?)"
    if not known:
        return f"; no {kind}s are defined"
    if kind == "feed":
        return "; refer to a feed by its name or its url"
    return f"; known {kind}s: {one_of(known)}"


def _check_groups(
    doc: Document, where: Loc, field: str, value: Any, groups: list[str], issues: list[Issue]
) -> None:
    """Reports each ``@group`` in ``field`` that ``terms`` does not define."""
    for i, word in texts_of(value):
        if not word.startswith("@") or word[1:] in groups:
            continue
        guess = suggest(word[1:], groups)
        hint = f" (did you mean '@{guess}'?)" if guess else "; define it under 'terms'"
        message = f"{field} names unknown term group '{word}'{hint}"
        issues.append(Issue(where, message, doc.node((*where, field, i))))
