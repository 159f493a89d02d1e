"""libyaml's composer gives the node tree PyYAML's Python composer gives (marks, styles,
tags, values), and hands back to it whatever it should not read."""

from __future__ import annotations

from pathlib import Path

import pytest
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from newswatch.config.composers import PyComposer, fast_root

ROOT = Path(__file__).resolve().parent.parent

MIXED = """\
# a comment
database: 'state.db'
poll: {interval: 10m, first_run: all}
terms:
  who: [Lukashenko, "Лукашенко", Лукашэнка]
feeds:
  - &wire {url: "https://wire.example.org/rss", name: Wire}
  - url: https://news.example.org/feed?x=1&y=2
    headers: {Authorization: "Bearer ${TOKEN}"}
watches:
  - name: belarus
    keywords: [Belarus, 'Беларусь', "leaked documents"]
    query: |
      @who AND NOT sport
    exclude: >
      football
  - {name: same, keywords: [x], feeds: [*wire]}
flags: [yes, no, on, 1:30, 3.5, -2, ~, null, true]
"""


def shape(root: Node) -> list[tuple[object, ...]]:
    """Every node of the tree, in order, as what the loader reads of it."""
    out: list[tuple[object, ...]] = []
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        start, end = node.start_mark, node.end_mark
        here = (type(node).__name__, node.tag, start.line, start.column, start.index)
        out.append((*here, end.line, end.column, end.index))
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            out.append((node.value, node.style))
        elif isinstance(node, SequenceNode):
            todo.extend(reversed(node.value))
        elif isinstance(node, MappingNode):
            todo.extend(n for pair in reversed(node.value) for n in reversed(pair))
    return out


def python_root(text: str) -> Node:
    composer = PyComposer(text)
    try:
        root = composer.get_single_node()
    finally:
        composer.dispose()
    assert root is not None
    return root


@pytest.mark.parametrize(
    "text",
    [
        MIXED,
        (ROOT / "config" / "watchlist.yaml").read_text(encoding="utf-8"),
        "feeds: &a [*a]\n",  # a list that holds itself
    ],
    ids=["mixed", "bundled", "recursive"],
)
def test_libyaml_gives_the_tree_the_python_composer_gives(text: str) -> None:
    fast = fast_root(text)
    assert fast is not None  # libyaml read it (the fast path is in use)
    assert shape(fast) == shape(python_root(text))


@pytest.mark.parametrize(
    "text",
    [
        "feeds: [a, b\n",  # a syntax error: the Python composer words it
        "feeds: [a\x07]\n",  # a character YAML forbids
        "feeds: " + "[" * 5000,  # nested past what the C composer should recurse into
        "a:\n" + "".join(" " * (2 * n) + f"k{n}:\n" for n in range(1, 120)),  # deep blocks
        "",
        "a: 1\n---\nb: 2\n",  # two documents
    ],
    ids=["syntax", "control", "deep flow", "deep blocks", "empty", "two documents"],
)
def test_what_libyaml_should_not_read_goes_to_the_python_composer(text: str) -> None:
    assert fast_root(text) is None
