"""Loading ``watchlist.yaml``: YAML with marks, ``${VAR}`` substitution, validation.

Every problem found on the way is collected, so that one run reports all of them, each
at its ``PATH:LINE:COLUMN``:

1. :mod:`newswatch.config.yamldoc` reads the YAML into plain data, keeping the node tree
   (duplicate keys, tags and ``${VAR}`` references are handled there).
2. pydantic validates the data against :mod:`newswatch.config.schema`; each error's ``loc``
   is walked back through the node tree to its place in the file, and reworded.
3. Cross-checks between sections: unknown destinations, feeds and term groups; names
   used twice.
4. The *checks* the caller passes (:mod:`newswatch.config.checks`): what only a later
   stage can judge, such as the watches' queries; a problem inside a value is placed at
   its own column, with a caret excerpt.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from newswatch.config.checks import Check, ValueProblem, caret_excerpt, value_position
from newswatch.config.paths import ca_file_problems, resolve_paths
from newswatch.config.schema import (
    ConsoleDestination,
    EmailDestination,
    FeedSettings,
    HealthSettings,
    PollSettings,
    Settings,
    SlackDestination,
    StorySettings,
    WatchSettings,
    WebhookDestination,
)
from newswatch.config.yamldoc import (
    Abort,
    Document,
    Issue,
    Loc,
    as_written,
    get_value,
    items_of,
    mark_of,
    position,
    read_document,
    texts_of,
)
from newswatch.errors import ConfigError, ConfigProblem

__all__ = ["load_config", "loads_config"]

_RETYPE_ROUNDS: Final = 4
_SECTIONS: Final = {"watches": "watch", "feeds": "feed", "destinations": "destination"}
_DESTINATION_TYPES: Final[dict[str, type[BaseModel]]] = {
    "slack": SlackDestination,
    "webhook": WebhookDestination,
    "email": EmailDestination,
    "console": ConsoleDestination,
}
_LIST_MODELS: Final[dict[str, type[BaseModel]]] = {
    "feeds": FeedSettings,
    "watches": WatchSettings,
}
_GROUP_NAME: Final = re.compile(r"^\w[\w-]*$")
_MASK_MIN: Final = 4

# ------------------------------------------------------------------ messages


def _prefix(data: dict[str, Any], loc: Loc) -> str:
    """``watch 'belarus': keywords item 2: `` for ``('watches', 0, 'keywords', 1)``."""
    context, rest = "", loc
    if len(loc) >= 2 and loc[0] in _SECTIONS and isinstance(loc[1], int):
        context, rest = _item_label(data, str(loc[0]), loc[1]), loc[2:]
    parts = [p for p in (context, _label(rest)) if p]
    return "".join(f"{p}: " for p in parts)


def _item_label(data: dict[str, Any], section: str, index: int) -> str:
    name = get_value(data, (section, index, "name"))
    if isinstance(name, str) and name.strip():
        return f"{_SECTIONS[section]} '{name}'"
    return f"{_SECTIONS[section]} {index + 1}"


def _label(loc: Loc) -> str:
    """Keys joined by dots, list indexes as ``item N``, free-form keys quoted."""
    label = ""
    previous: str | int | None = None
    for part in loc:
        if isinstance(part, int):
            label += f" item {part + 1}"
        elif previous in ("terms", "headers"):
            label += f" '{part}'"
        else:
            label += ("." if label else "") + part
        previous = part
    return label.strip()


def _suggest(word: str, choices: Sequence[str]) -> str | None:
    """The closest choice to a mistyped ``word``, if any is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _one_of(choices: Sequence[str]) -> str:
    return ", ".join(choices)


# ------------------------------------------------------------------ pydantic errors


def _strip_tags(loc: tuple[int | str, ...]) -> Loc:
    """Drop the discriminator tag pydantic puts in a destination's ``loc``."""
    if len(loc) >= 3 and loc[0] == "destinations" and loc[2] in _DESTINATION_TYPES:
        return (*loc[:2], *loc[3:])
    return tuple(loc)


def _model_at(data: dict[str, Any], loc: Loc) -> type[BaseModel] | None:
    """The settings class that validates the mapping at ``loc``."""
    if loc == ():
        return Settings
    sections: dict[str, type[BaseModel]] = {
        "poll": PollSettings,
        "health": HealthSettings,
        "stories": StorySettings,
    }
    if len(loc) == 1 and loc[0] in sections:
        return sections[str(loc[0])]
    if len(loc) == 2 and isinstance(loc[1], int):
        if loc[0] == "destinations":
            kind = get_value(data, (*loc, "type"))
            return _DESTINATION_TYPES.get(kind) if isinstance(kind, str) else None
        return _LIST_MODELS.get(str(loc[0]))
    return None


def _keys_of(model: type[BaseModel]) -> list[str]:
    """The keys a user may write for ``model``."""
    fields = model.model_fields
    return [f.alias or name for name, f in fields.items() if name != "source"]


def _unknown_key(data: dict[str, Any], loc: Loc, key: str) -> str:
    model = _model_at(data, loc)
    if key == "verify" and model is EmailDestination:
        return (
            "unknown key 'verify': certificate checks cannot be turned off; "
            "for a private CA, give its certificates as tls_ca_file: /path/to/ca.pem"
        )
    keys = _keys_of(model) if model else []
    guess = _suggest(key, keys)
    if guess:
        return f"unknown key '{key}' (did you mean '{guess}'?)"
    return f"unknown key '{key}'" + (f"; valid keys: {_one_of(keys)}" if keys else "")


def _bad_type(tag: str) -> str:
    types = list(_DESTINATION_TYPES)
    guess = _suggest(tag, types)
    hint = f" (did you mean '{guess}'?)" if guess else ""
    return f"unknown type '{tag}'{hint}; valid types: {_one_of(types)}"


class _Translator:
    """Turns pydantic's errors into issues with plain wording and file locations."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def issue(self, error: ErrorDetails) -> Issue:
        loc = _strip_tags(error["loc"])
        kind = error["type"]
        data = self.doc.data
        if kind == "extra_forbidden":
            key = str(loc[-1])
            return Issue(loc[:-1], _unknown_key(data, loc[:-1], key), self.doc.key_node(loc))
        if kind == "missing":
            return Issue(loc[:-1], f"missing key '{loc[-1]}'", self.doc.node(loc[:-1]))
        if kind == "union_tag_not_found":
            message = f"missing key 'type'; valid types: {_one_of(list(_DESTINATION_TYPES))}"
            return Issue(loc, message, self.doc.node(loc))
        if kind == "union_tag_invalid":
            tag = str((error.get("ctx") or {}).get("tag", ""))
            return Issue(loc, _bad_type(tag), self.doc.node((*loc, "type")))
        return Issue(loc, self._message(error, loc), self.doc.node(loc))

    def _message(self, error: ErrorDetails, loc: Loc) -> str:
        value = get_value(self.doc.data, loc)
        if value is None:
            return "has no value: " + (
                "remove the item"
                if loc and isinstance(loc[-1], int)
                else "give one or remove the key"
            )
        message = _wording(error, value)
        names = self.doc.env_vars.get(id(self.doc.node(loc)), [])
        if isinstance(value, str) and value and (names or _is_secret(loc)):
            message = message.replace(f"'{value}'", "the value")
            if len(value) >= _MASK_MIN:  # shorter ones would mangle the message's words
                message = message.replace(value, "…")
        if names:
            message += " (the value comes from " + ", ".join(f"${{{n}}}" for n in names) + ")"
        return message


def _is_secret(loc: Loc) -> bool:
    """Whether the value at ``loc`` may be a credential that must not be echoed."""
    if not loc or loc[0] != "destinations":
        return False
    return any(part in ("url", "secret", "password", "headers") for part in loc[2:])


def _wording(error: ErrorDetails, value: Any) -> str:
    """Plain words for one pydantic error on ``value``."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return _literal(value, re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    fixed = _FIXED_WORDING.get(kind)
    if fixed is not None:
        return fixed.format(value=value, kind=_kind(value), **ctx)
    text = error["msg"]
    return text[:1].lower() + text[1:]


def _literal(value: Any, choices: list[str]) -> str:
    guess = _suggest(str(value), choices)
    hint = f" (did you mean '{guess}'?)" if guess else ""
    return f"'{value}' is not one of {_one_of(choices)}{hint}"


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    return "a number" if isinstance(value, int | float) else "text"


_FIXED_WORDING: Final = {
    "string_type": "must be text, not {kind}",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long: at most {max_length} characters",
    "string_pattern_mismatch": "'{value}' is not an email address (name@example.org)",
    "int_type": "must be a whole number, not {kind}",
    "int_parsing": "'{value}' is not a whole number",
    "int_from_float": "'{value}' is not a whole number",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "too_short": "must not be an empty list",
    "tuple_type": "must be a list, e.g. [a, b], not {kind}",
    "list_type": "must be a list, e.g. [a, b], not {kind}",
    "dict_type": "must be a mapping of keys and values, not {kind}",
    "model_type": "must be a mapping of keys and values, not {kind}",
    "model_attributes_type": "must be a mapping of keys and values, not {kind}",
    "path_type": "must be a file path, not {kind}",
}


def _retype(doc: Document, errors: list[ErrorDetails]) -> bool:
    """Give back as written the numbers and booleans found where text is expected.

    ``keywords: [2024, G7]`` means the word 2024; YAML made it a number. Returns
    whether anything changed (then validation runs again).
    """
    changed = False
    for error in errors:
        if error["type"] != "string_type":
            continue
        loc = _strip_tags(error["loc"])
        written = as_written(doc.node(loc))
        if written is not None:
            changed = _put(doc.data, loc, written) or changed
    return changed


def _put(data: dict[str, Any], loc: Loc, value: Any) -> bool:
    """Replace the existing value at ``loc``; whether there was one."""
    parent, key = get_value(data, loc[:-1]), loc[-1]
    if isinstance(parent, dict) and isinstance(key, str) and key in parent:
        parent[key] = value
        return True
    if isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
        parent[key] = value
        return True
    return False


def _validate(doc: Document) -> tuple[Settings | None, list[ErrorDetails]]:
    """Validate, retrying after :func:`_retype`; the settings or pydantic's errors."""
    errors: list[ErrorDetails] = []
    for _ in range(_RETYPE_ROUNDS):
        try:
            return Settings.model_validate(doc.data), []
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        if not _retype(doc, errors):
            break
    return None, errors


def _explaining(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "too short" errors on a list whose items have errors of their own: pydantic
    counts only valid items, so ``to: [bad]`` would also claim the list is empty."""
    inner = [error["loc"] for error in errors]
    return [
        error
        for error in errors
        if error["type"] != "too_short"
        or not any(loc[: len(error["loc"])] == error["loc"] != loc for loc in inner)
    ]


# ------------------------------------------------------------------ cross-checks


def _cross_check(doc: Document) -> list[Issue]:
    """Checks that span sections: names unique, references defined."""
    issues: list[Issue] = []
    _check_database(doc, issues)
    destinations = _unique_names(doc, "destinations", issues)
    _unique_names(doc, "watches", issues)
    feeds = _check_feeds(doc, issues)
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
    elif value.startswith("~"):
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
                f"the name '{name}' is already used by {_SECTIONS[section]} {first + 1} "
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
    guess = _suggest(name, known)
    if guess:
        return f" (did you mean '{guess}'?)"
    if not known:
        return f"; no {kind}s are defined"
    if kind == "feed":
        return "; refer to a feed by its name or its url"
    return f"; known {kind}s: {_one_of(known)}"


def _check_groups(
    doc: Document, where: Loc, field: str, value: Any, groups: list[str], issues: list[Issue]
) -> None:
    """Reports each ``@group`` in ``field`` that ``terms`` does not define."""
    for i, word in texts_of(value):
        if not word.startswith("@") or word[1:] in groups:
            continue
        guess = _suggest(word[1:], groups)
        hint = f" (did you mean '@{guess}'?)" if guess else "; define it under 'terms'"
        message = f"{field} names unknown term group '{word}'{hint}"
        issues.append(Issue(where, message, doc.node((*where, field, i))))


# ------------------------------------------------------------------ entry points


def load_config(path: Path, env: Mapping[str, str], *, checks: Sequence[Check] = ()) -> Settings:
    """Read, substitute, validate and cross-check the configuration file at ``path``, then
    run ``checks`` on the settings.

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
    return loads_config(text, path, env, checks=checks)


def loads_config(
    text: str, path: Path, env: Mapping[str, str], *, checks: Sequence[Check] = ()
) -> Settings:
    """Like :func:`load_config` for ``text`` already read from ``path``."""
    try:
        doc, issues = _read(text, env)
    except Abort as abort:
        problem = ConfigProblem(str(path), abort.line, abort.column, abort.message)
        raise ConfigError([problem]) from abort
    settings, errors = _validate(doc)
    translator = _Translator(doc)
    issues += [translator.issue(error) for error in _explaining(errors)]
    issues += _cross_check(doc)
    problems = _problems(doc, issues, str(path))
    if settings is not None:
        settings = resolve_paths(settings, path, env)
        problems += _checked(doc, text, str(path), ca_file_problems(settings))
    checkable = settings if settings is not None else _checkable(doc.data)
    if checkable is not None:
        for check in checks:
            problems += _checked(doc, text, str(path), check(checkable))
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


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
        message = _prefix(doc.data, problem.loc) + problem.message
        problems.append(ConfigProblem(path, line, column, message, excerpt))
    return problems


def _read(text: str, env: Mapping[str, str]) -> tuple[Document, list[Issue]]:
    """Read the document; ``source`` is set by the loader, not a key a user may write."""
    doc, issues = read_document(text, env)
    if "source" in doc.data:
        del doc.data["source"]
        message = _unknown_key(doc.data, (), "source")
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
        message = _prefix(doc.data, issue.loc) + issue.message
        if (line, column, message) not in seen:
            seen.add((line, column, message))
            problems.append(ConfigProblem(path, line, column, message))
    return problems
