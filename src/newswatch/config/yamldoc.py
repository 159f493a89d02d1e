"""The YAML layer of the configuration: text -> node tree -> plain data, keeping marks.

PyYAML composes a node tree (every node keeps its line and column) with a resolver that
knows only the YAML 1.2 core types, so ``no``, ``on`` or ``1:30`` stay words. The tree is
then turned into plain dicts, lists and scalars; duplicate keys, unsupported tags and
``${VAR}`` references are dealt with there, where each value's node is at hand, and the
tree is kept so that any later error can be walked back to its place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from yaml.error import MarkedYAMLError, YAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from newswatch.config.composers import TAG, PyComposer, fast_root

__all__ = [
    "ABSENT",
    "MAX_NODES",
    "Abort",
    "Document",
    "Issue",
    "Loc",
    "as_written",
    "get_value",
    "items_of",
    "mark_of",
    "position",
    "read_document",
    "substitute_env",
    "texts_of",
]

MAX_NODES: Final = 100_000
"""The most values a file may expand to once aliases are followed (guards alias bombs)."""

Loc = tuple[str | int, ...]
"""A path into the plain data, as pydantic's ``loc``: keys and list indexes."""

_STR, _NULL, _BOOL, _INT, _FLOAT = (TAG + t for t in ("str", "null", "bool", "int", "float"))
_SEQ, _MAP = TAG + "seq", TAG + "map"


class Abort(Exception):
    """A problem after which the rest of the file cannot be read meaningfully."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


def _compose(text: str) -> MappingNode:
    """The document's root mapping; raises ``Abort`` for syntax errors and other shapes."""
    root = fast_root(text)
    composer: PyComposer | None = None
    try:
        if root is None:
            composer = PyComposer(text)
            root = composer.get_single_node()
    except MarkedYAMLError as exc:
        raise _syntax_error(exc) from exc
    except ReaderError as exc:
        line, column = position(text, int(exc.position))
        message = f"character U+{int(exc.character):04X} is not allowed in YAML: remove it"
        raise Abort(line, column, message) from exc
    except YAMLError as exc:  # pragma: no cover - every PyYAML error above is marked
        raise Abort(1, 1, f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    finally:
        if composer is not None:
            composer.dispose()
    if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL):
        raise Abort(1, 1, "the file is empty: write the configuration as YAML keys, e.g. feeds:")
    if not isinstance(root, MappingNode):
        line, column = mark_of(root)
        raise Abort(line, column, "the top level must be a mapping of keys such as 'feeds:'")
    return root


def _too_deep() -> Abort:
    return Abort(1, 1, "invalid YAML: the values are nested too deeply")


def _syntax_error(exc: MarkedYAMLError) -> Abort:
    """A YAML syntax error, reported where PyYAML saw the problem."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if exc.context == "expected a single document in the stream":
        return Abort(line, column, "the file holds more than one YAML document: keep one")
    message = f"invalid YAML: {exc.problem or exc.context}"
    if exc.context and exc.problem and exc.context_mark:
        where = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        message += f" ({exc.context} at {where})"
    if exc.problem and "'\\t'" in exc.problem:
        message += ": indent with spaces, not tabs"
    elif exc.problem and "<block end>" in exc.problem:
        message += ": check the indentation"
    elif exc.problem == "mapping values are not allowed here":
        message += ": check the indentation, or quote a value that holds ': '"
    return Abort(line, column, message)


def position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index in ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def mark_of(node: Node) -> tuple[int, int]:
    """1-based line and column where ``node`` starts."""
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


# ------------------------------------------------------------------ env substitution

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


def substitute_env(text: str, env: Mapping[str, str]) -> tuple[str, list[str], list[str]]:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in ``text``; ``$${`` is a literal ``${``.

    Returns the new text, the variables used and the problems found (as messages).
    ``:-`` takes the default when the variable is unset or empty, as in the shell.
    """
    used: list[str] = []
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        body = match.group(1)
        parsed = _VARIABLE.match(body) if body is not None else None
        if parsed is None:
            problems.append(_bad_reference(match.group(0)))
            return ""
        name, default = parsed.group(1), parsed.group(2)
        used.append(name)
        value = env.get(name)
        if default is not None and not value:
            return default
        if value is None:
            problems.append(
                f"environment variable {name} is not set: set it, or write ${{{name}:-default}}"
            )
            return ""
        return value

    return _REFERENCE.sub(replace, text), used, problems


def _bad_reference(found: str) -> str:
    """The message for a ``${`` that is not a valid variable reference."""
    shown = found if len(found) <= 40 else found[:37] + "..."
    return (
        f"'{shown}' is not a variable reference: write ${{NAME}} or ${{NAME:-default}} "
        "(and $${ for a literal ${)"
    )


# ------------------------------------------------------------------ tree -> data


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem before it gets its context: ``loc`` names the part of the config it is
    about (for the message prefix), ``node`` is where it is in the file."""

    loc: Loc
    message: str
    node: Node
    primary: bool = False  # an issue that explains every later one at the same node


class Builder:
    """Turns the node tree into plain dicts, lists and scalars, noting what it meets."""

    def __init__(self, env: Mapping[str, str], *, secrets: bool = True) -> None:
        self.env = env
        self.secrets = secrets  # False: an unset ${VAR} in a destination is no problem
        self.issues: list[Issue] = []
        self.env_vars: dict[int, list[str]] = {}
        self.tainted: set[int] = set()
        self._count = 0
        self._active: set[int] = set()

    def build(self, node: Node, loc: Loc) -> Any:
        """The plain value of ``node``, found at ``loc``."""
        self._count += 1
        if self._count > MAX_NODES:
            raise Abort(
                *mark_of(node),
                f"the file expands to more than {MAX_NODES} values (through aliases?)",
            )
        if id(node) in self._active:
            raise Abort(*mark_of(node), "an alias refers to a value that contains it")
        if isinstance(node, ScalarNode):
            return self._scalar(node, loc)
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self._expect_tag(node, loc, _SEQ)
                return [self.build(child, (*loc, i)) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode):
                self._expect_tag(node, loc, _MAP)
                return self._mapping(node, loc)
            raise Abort(*mark_of(node), "unexpected YAML node")  # pragma: no cover
        finally:
            self._active.discard(id(node))

    def _report(self, loc: Loc, message: str, node: Node) -> None:
        self.issues.append(Issue(loc, message, node, primary=True))
        self.tainted.add(id(node))

    def _expect_tag(self, node: Node, loc: Loc, tag: str) -> None:
        if node.tag != tag:
            self._report(loc, f"unsupported tag '{_short_tag(node.tag)}': remove it", node)

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, loc)
            if key is None:
                continue
            if key in first:
                line = mark_of(first[key])[0]
                message = f"duplicate key '{key}' (first at line {line}): keep one"
                self._report(loc, message, key_node)
                continue
            first[key] = key_node
            result[key] = self.build(value_node, (*loc, key))
        return result

    def _key(self, node: Node, loc: Loc) -> str | None:
        """The text of a mapping key, or None (reported) if it cannot be one."""
        if not isinstance(node, ScalarNode):
            self._report(loc, "a key must be a plain word, not a list or a mapping", node)
            return None
        if node.value == "<<" and node.style is None:
            self._report(loc, "merge keys ('<<') are not supported: write the keys out", node)
            return None
        return str(node.value)

    def _scalar(self, node: ScalarNode, loc: Loc) -> Any:
        text, tag = str(node.value), node.tag
        if tag == _STR:
            return self._substitute(node, loc)
        if tag == _NULL:
            return None
        if tag not in (_BOOL, _INT, _FLOAT):
            self._report(loc, f"unsupported tag '{_short_tag(tag)}': remove it", node)
            return text
        value = _typed(text, tag)
        if value is None:
            self._report(loc, f"'{text}' cannot be read as {_short_tag(tag)}", node)
            return text
        return value

    def _substitute(self, node: ScalarNode, loc: Loc) -> str:
        env = self.env
        if not self.secrets and loc[:1] == ("destinations",):
            env = _Placeholders(self.env, _placeholder(str(node.value), loc))
        text, used, problems = substitute_env(str(node.value), env)
        if used:
            self.env_vars[id(node)] = used
        for message in problems:
            self._report(loc, message, node)
        return text


class _Placeholders(Mapping[str, str]):
    """``env``, where every unset variable reads as ``placeholder``."""

    def __init__(self, env: Mapping[str, str], placeholder: str) -> None:
        self._env, self._placeholder = env, placeholder

    def __getitem__(self, name: str) -> str:
        return self._env.get(name, self._placeholder)

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)


def _placeholder(text: str, loc: Loc) -> str:
    """What an unset destination secret reads as for a command that delivers nothing: a
    value that validates where it stands (a URL where a URL is expected), never used."""
    whole = _REFERENCE.fullmatch(text.strip()) is not None
    return "https://unset.invalid/" if whole and loc[-1:] == ("url",) else "unset"


def _typed(text: str, tag: str) -> bool | int | float | None:
    """``text`` read as the core type ``tag``, or None if it is not one."""
    try:
        if tag == _INT:
            return int(text)
        if tag == _FLOAT:
            return float(text)
    except ValueError:
        return None
    return text.lower() == "true" if text.lower() in ("true", "false") else None


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(TAG) :] if tag.startswith(TAG) else tag


# ------------------------------------------------------------------ the document


class Document:
    """One file: its node tree, its plain data and how to find a value's node."""

    def __init__(self, root: MappingNode, builder: Builder, data: dict[str, Any]) -> None:
        self.root = root
        self.data = data
        self.env_vars = builder.env_vars
        self.tainted = builder.tainted

    def node(self, loc: Loc) -> Node:
        """The node of the value at ``loc``, or of its deepest existing ancestor."""
        node: Node = self.root
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
        return node

    def key_node(self, loc: Loc) -> Node:
        """The node of the key that names ``loc`` (for unknown keys), else the value's."""
        parent = self.node(loc[:-1])
        if isinstance(parent, MappingNode):
            for key, _value in parent.value:
                if isinstance(key, ScalarNode) and key.value == loc[-1]:
                    return key
        return self.node(loc)

    def line(self, loc: Loc) -> int:
        return mark_of(self.node(loc))[0]


def _child(node: Node, part: str | int) -> Node | None:
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                found: Node = value
                return found
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: Node = node.value[part]
        return child
    return None


ABSENT: Final = object()


def get_value(data: Any, loc: Loc) -> Any:
    """The plain value at ``loc``, or ``ABSENT``."""
    for part in loc:
        in_dict = isinstance(data, dict) and isinstance(part, str) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_dict or in_list):
            return ABSENT
        data = data[part]
    return data


def items_of(data: dict[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    """The mappings of a list section, with their indexes (other shapes are pydantic's)."""
    value = data.get(section)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def texts_of(value: Any) -> list[tuple[int, str]]:
    """The text items of a list, with their indexes."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, str)]


def read_document(
    text: str, env: Mapping[str, str], *, secrets: bool = True
) -> tuple[Document, list[Issue]]:
    """The document in ``text`` and the problems met while reading it; with ``secrets``
    False, unset variables in destinations are not problems (for commands that deliver
    nothing and so need no destination's secrets).

    Raises :class:`Abort` when the text cannot be read as one YAML mapping at all.
    """
    root = _compose(text)
    builder = Builder(env, secrets=secrets)
    try:
        data: dict[str, Any] = builder.build(root, ())
    except RecursionError as exc:
        raise _too_deep() from exc
    return Document(root, builder, data), builder.issues


def as_written(node: Node) -> str | None:
    """The text of a scalar that YAML read as a number or boolean, else None."""
    if isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT, _BOOL):
        return str(node.value)
    return None
