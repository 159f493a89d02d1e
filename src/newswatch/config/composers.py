"""The YAML composers of the configuration: text -> node tree (every node with its marks).

PyYAML's own pipeline in Python, and libyaml's (PyYAML's C extension) when it is there:
both with a resolver that knows only the YAML 1.2 core types, so ``no``, ``on`` or
``1:30`` stay words. libyaml composes first; its tree has the same marks (line, column,
character index) and styles as the Python one, which reads whatever libyaml cannot
(and so reports every problem in the same words as always).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

__all__ = ["TAG", "PyComposer", "fast_root"]

TAG: Final = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT = (TAG + t for t in ("null", "bool", "int", "float"))


class _CoreResolver(BaseResolver):
    """Implicit types of the YAML 1.2 core schema only (PyYAML's default is YAML 1.1)."""


_CoreResolver.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|)$", re.I), ["~", "n", "N", ""])
_CoreResolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|false)$", re.I), list("tTfF"))
_CoreResolver.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_CoreResolver.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)


class PyComposer(Reader, Scanner, Parser, Composer, _CoreResolver):
    """PyYAML's safe pipeline up to the node tree, without any constructor."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


_DEEP_FLOW: Final = 200  # more brackets than this, or an indent as deep: the Python composer
_DEEP_INDENT: Final = re.compile(r"^ {200}", re.M)


def fast_root(text: str) -> Node | None:
    """The node tree composed by libyaml (~14 times faster: 9 ms for 500 feeds and 200
    watches, 127 ms in Python), with the marks and styles PyYAML's own composer gives;
    None when the Python composer is to read the text instead: the text is empty, it
    nests deeply (the C composer recurses without a limit), or it has a problem (the
    Python composer then reports it, in the words users know)."""
    if _CComposer is None or text.count("[") + text.count("{") > _DEEP_FLOW:
        return None
    if _DEEP_INDENT.search(text):
        return None
    composer = _CComposer(text)
    try:
        root: Node | None = composer.get_single_node()
    except Exception:  # any problem: the Python composer says what it is
        return None
    finally:
        composer.dispose()
    if root is not None:
        _plain_style(root)
    return root


def _plain_style(root: Node) -> None:
    """libyaml marks a plain scalar with style ``''``, PyYAML's composer with None."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if node.style == "":
                node.style = None
        elif isinstance(node, SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, MappingNode):
            todo.extend(n for pair in node.value for n in pair)


_CComposer: Callable[[str], Any] | None
try:  # libyaml's parser and composer, when PyYAML was built with it (its wheels are)
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - a PyYAML without libyaml: the Python composer
    _CComposer = None
else:

    class _LibyamlComposer(CParser, _CoreResolver):
        """libyaml's pipeline up to the node tree, with the core-schema resolver."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _CoreResolver.__init__(self)

    _CComposer = _LibyamlComposer
