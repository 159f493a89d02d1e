"""pydantic validation of the configuration, and its errors in plain words at their place.

Each error's ``loc`` is walked back through the YAML node tree to its place in the file
and reworded; secrets and substituted values are never echoed. Numbers and booleans that
YAML made of words meant as text are given back as written, and validation runs again.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from newswatch.config.schema import (
    AppriseDestination,
    ConsoleDestination,
    EmailDestination,
    FeedSettings,
    HealthSettings,
    MetricsSettings,
    PollSettings,
    Settings,
    SlackDestination,
    StorySettings,
    WatchSettings,
    WebhookDestination,
)
from newswatch.config.wording import one_of, suggest
from newswatch.config.yamldoc import Document, Issue, Loc, as_written, get_value

__all__ = ["Translator", "explaining", "unknown_key", "validate"]

_RETYPE_ROUNDS: Final = 4
_DESTINATION_TYPES: Final[dict[str, type[BaseModel]]] = {
    "slack": SlackDestination,
    "webhook": WebhookDestination,
    "email": EmailDestination,
    "console": ConsoleDestination,
    "apprise": AppriseDestination,
}
_LIST_MODELS: Final[dict[str, type[BaseModel]]] = {
    "feeds": FeedSettings,
    "watches": WatchSettings,
}
_MASK_MIN: Final = 4


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
        "metrics": MetricsSettings,
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


def unknown_key(data: dict[str, Any], loc: Loc, key: str) -> str:
    model = _model_at(data, loc)
    if key == "verify" and model is EmailDestination:
        return (
            "unknown key 'verify': certificate checks cannot be turned off; "
            "for a private CA, give its certificates as tls_ca_file: /path/to/ca.pem"
        )
    keys = _keys_of(model) if model else []
    guess = suggest(key, keys)
    if guess:
        return f"unknown key '{key}' (did you mean '{guess}'?)"
    return f"unknown key '{key}'" + (f"; valid keys: {one_of(keys)}" if keys else "")


def _bad_type(tag: str) -> str:
    types = list(_DESTINATION_TYPES)
    guess = suggest(tag, types)
    hint = f" (did you mean '{guess}'?)" if guess else ""
    return f"unknown type '{tag}'{hint}; valid types: {one_of(types)}"


class Translator:
    """Turns pydantic's errors into issues with plain wording and file locations."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def issue(self, error: ErrorDetails) -> Issue:
        loc = _strip_tags(error["loc"])
        kind = error["type"]
        data = self.doc.data
        if kind == "extra_forbidden":
            key = str(loc[-1])
            return Issue(loc[:-1], unknown_key(data, loc[:-1], key), self.doc.key_node(loc))
        if kind == "missing":
            return Issue(loc[:-1], f"missing key '{loc[-1]}'", self.doc.node(loc[:-1]))
        if kind == "union_tag_not_found":
            message = f"missing key 'type'; valid types: {one_of(list(_DESTINATION_TYPES))}"
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
    if len(loc) > 2 and loc[0] == "feeds":
        return loc[2] == "headers"
    if not loc or loc[0] != "destinations":
        return False
    return any(part in ("url", "urls", "secret", "password", "headers") for part in loc[2:])


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
    guess = suggest(str(value), choices)
    hint = f" (did you mean '{guess}'?)" if guess else ""
    return f"'{value}' is not one of {one_of(choices)}{hint}"


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


def validate(doc: Document) -> tuple[Settings | None, list[ErrorDetails]]:
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


def explaining(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "too short" errors on a list whose items have errors of their own: pydantic
    counts only valid items, so ``to: [bad]`` would also claim the list is empty."""
    inner = [error["loc"] for error in errors]
    return [
        error
        for error in errors
        if error["type"] != "too_short"
        or not any(loc[: len(error["loc"])] == error["loc"] != loc for loc in inner)
    ]
