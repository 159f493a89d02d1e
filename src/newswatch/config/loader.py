"""Loading ``watchlist.yaml``: the entry points that run every stage of loading in turn.

Every problem found on the way is collected, so that one run reports all of them, each
at its ``PATH:LINE:COLUMN``:

1. :mod:`newswatch.config.yamldoc` reads the YAML into plain data, keeping the node tree
   (duplicate keys, tags and ``${VAR}`` references are handled there).
2. pydantic validates the data against :mod:`newswatch.config.schema`; each error's ``loc``
   is walked back through the node tree to its place in the file, and reworded
   (:mod:`newswatch.config.validation`).
   OPML files named by ``opml:`` are read then (:mod:`newswatch.config.opml`), their
   problems placed in those files, and their feeds merged into ``feeds``.
3. Cross-checks between sections (:mod:`newswatch.config.crosschecks`): unknown
   destinations, feeds and term groups; names used twice.
4. The *checks* the caller passes (:mod:`newswatch.config.checks`): what only a later
   stage can judge, such as the watches' queries; a problem inside a value is placed at
   its own column, with a caret excerpt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from newswatch.config.checks import Check, ValueProblem, caret_excerpt, value_position
from newswatch.config.crosschecks import cross_check
from newswatch.config.opml import OpmlFeed, merge_feeds, read_opml
from newswatch.config.paths import ca_file_problems, resolve_paths
from newswatch.config.schema import Settings, WatchSettings
from newswatch.config.validation import Translator, explaining, unknown_key, validate
from newswatch.config.wording import prefix
from newswatch.config.yamldoc import (
    Abort,
    Document,
    Issue,
    get_value,
    mark_of,
    position,
    read_document,
    texts_of,
)
from newswatch.errors import ConfigError, ConfigProblem

__all__ = ["load_config", "loads_config"]


def load_config(
    path: Path, env: Mapping[str, str], *, checks: Sequence[Check] = (), secrets: bool = True
) -> Settings:
    """Read, substitute, validate and cross-check the configuration file at ``path``, then
    run ``checks`` on the settings. With ``secrets`` False an unset ``${VAR}`` inside a
    destination is not a problem (its value is a placeholder): for commands that deliver
    nothing.

    Raises :class:`ConfigError` listing every problem found, each with its location.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        problem = ConfigProblem(str(path), 1, 1, f"cannot read the file: {reason}")
        raise ConfigError([problem]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace").removeprefix("\ufeff")
        line, column = position(before, len(before))
        message = "the file is not UTF-8 text: save it as UTF-8"
        raise ConfigError([ConfigProblem(str(path), line, column, message)]) from None
    return loads_config(text, path, env, checks=checks, secrets=secrets)


def loads_config(
    text: str,
    path: Path,
    env: Mapping[str, str],
    *,
    checks: Sequence[Check] = (),
    secrets: bool = True,
) -> Settings:
    """Like :func:`load_config` for ``text`` already read from ``path``."""
    try:
        doc, issues = _read(text, env, secrets)
    except Abort as abort:
        problem = ConfigProblem(str(path), abort.line, abort.column, abort.message)
        raise ConfigError([problem]) from abort
    settings, errors = validate(doc)
    translator = Translator(doc)
    issues += [translator.issue(error) for error in explaining(errors)]
    opml_feeds, opml_problems = _read_opml(doc, path, issues)
    issues += cross_check(doc, [ref for f in opml_feeds for ref in (f.url, f.name) if ref])
    problems = _problems(doc, issues, str(path)) + opml_problems
    if settings is not None:
        feeds = merge_feeds(settings.feeds, opml_feeds)
        settings = resolve_paths(settings.model_copy(update={"feeds": feeds}), path, env)
        problems += _checked(doc, text, str(path), ca_file_problems(settings))
    problems += _run_checks(doc, text, str(path), settings, checks)
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def _read_opml(
    doc: Document, path: Path, issues: list[Issue]
) -> tuple[list[OpmlFeed], list[ConfigProblem]]:
    """The feeds of the ``opml:`` files (relative to ``path``'s folder), and the problems
    inside them; a file that cannot be read is reported at its ``opml:`` entry."""
    feeds: list[OpmlFeed] = []
    problems: list[ConfigProblem] = []
    for i, name in texts_of(doc.data.get("opml")):
        file = path.parent / name
        try:
            found, bad = read_opml(file)
        except ConfigError as exc:
            problems += exc.problems
        except OSError as exc:
            message = f"cannot read OPML file {file}: {exc.strerror or exc}"
            issues.append(Issue(("opml",), message, doc.node(("opml", i))))
        else:
            feeds += found
            problems += bad
    return feeds, problems


def _run_checks(
    doc: Document, text: str, path: str, settings: Settings | None, checks: Sequence[Check]
) -> list[ConfigProblem]:
    """The problems the caller's ``checks`` find, in order; they judge the settings, or
    what of them validated when the whole file did not."""
    checkable = settings if settings is not None else _checkable(doc.data)
    if checkable is None:
        return []
    return [p for check in checks for p in _checked(doc, text, path, check(checkable))]


_PLACEHOLDER: Final = WatchSettings(name="(invalid watch)", keywords=("placeholder",))


def _checkable(data: dict[str, Any]) -> Settings | None:
    """When the whole file did not validate, settings with its valid terms and watches
    (an invalid watch replaced by a placeholder, so that indexes stay put), so that the
    checks can report their problems in the same run; None if even that is not possible."""
    watches = data.get("watches", [])
    if not isinstance(watches, list):
        return None
    try:
        terms = Settings.model_validate({"terms": data.get("terms") or {}}).terms
    except ValidationError:
        return None
    valid = []
    for item in watches:
        try:
            valid.append(Settings.model_validate({"watches": [item]}).watches[0])
        except ValidationError:
            valid.append(_PLACEHOLDER)
    return Settings.model_construct(terms=terms, watches=tuple(valid))


def _checked(
    doc: Document, text: str, path: str, found: Iterable[ValueProblem]
) -> list[ConfigProblem]:
    """The problems a check found, each at its place (inside the value when it says where)."""
    problems = []
    for problem in found:
        node = doc.node(problem.loc)
        line, column = mark_of(node)
        excerpt = ""
        value = get_value(doc.data, problem.loc)
        if problem.offset is not None and isinstance(value, str):
            spot = None
            if id(node) not in doc.env_vars:  # a substituted value is not what the file says
                spot = value_position(text, node, value, problem.offset)
            line, column = spot or (line, column)
            excerpt = caret_excerpt(text, line, column)
        message = prefix(doc.data, problem.loc) + problem.message
        problems.append(ConfigProblem(path, line, column, message, excerpt))
    return problems


def _read(text: str, env: Mapping[str, str], secrets: bool) -> tuple[Document, list[Issue]]:
    """Read the document; ``source`` is set by the loader, not a key a user may write."""
    doc, issues = read_document(text, env, secrets=secrets)
    if "source" in doc.data:
        del doc.data["source"]
        message = unknown_key(doc.data, (), "source")
        issues.append(Issue((), message, doc.key_node(("source",)), primary=True))
    return doc, issues


def _problems(doc: Document, issues: list[Issue], path: str) -> list[ConfigProblem]:
    """Located, de-duplicated problems; nothing more is said about a value whose primary
    problem (a missing variable, a bad tag...) was reported already."""
    problems: list[ConfigProblem] = []
    seen: set[tuple[int, int, str]] = set()
    for issue in issues:
        if id(issue.node) in doc.tainted and not issue.primary:
            continue
        line, column = mark_of(issue.node)
        message = prefix(doc.data, issue.loc) + issue.message
        if (line, column, message) not in seen:
            seen.add((line, column, message))
            problems.append(ConfigProblem(path, line, column, message))
    return problems
