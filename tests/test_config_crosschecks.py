"""Tests for newswatch.config.crosschecks: names used once, references defined."""

from __future__ import annotations

import pytest

from support.configs import problems

CROSS_CASES = [
    pytest.param(
        """\
        watches:
          - name: w
            keywords: [a]
          - name: w
            keywords: [b]
        """,
        ["4:11: watch 'w': the name 'w' is already used by watch 1 (line 2): names must be unique"],
        id="duplicate watch name",
    ),
    pytest.param(
        """\
        destinations:
          - name: t
            type: console
          - name: t
            type: console
        """,
        [
            "4:11: destination 't': the name 't' is already used by destination 1 (line 2): "
            "names must be unique"
        ],
        id="duplicate destination name",
    ),
    pytest.param(
        """\
        feeds:
          - url: https://example.org/a.xml
          - url: https://example.org/a.xml
        """,
        ["3:10: feed 2: the same url is already feed 1 (line 2): list it once"],
        id="duplicate feed url",
    ),
    pytest.param(
        """\
        feeds:
          - url: https://example.org/a.xml
            name: A
          - url: https://example.org/b.xml
            name: A
        """,
        ["5:11: feed 'A': the name 'A' is already used by feed 1 (line 3): names must be unique"],
        id="duplicate feed name",
    ),
    pytest.param(
        """\
        destinations:
          - name: team-slack
            type: console
        watches:
          - name: belarus
            keywords: [Belarus]
            notify: [slak]
        """,
        [
            "7:14: watch 'belarus': notify names unknown destination 'slak'; "
            "known destinations: team-slack"
        ],
        id="notify names an unknown destination",
    ),
    pytest.param(
        """\
        destinations:
          - name: team-slack
            type: console
        watches:
          - name: belarus
            keywords: [Belarus]
            notify:
              - team-slak
        """,
        [
            "8:9: watch 'belarus': notify names unknown destination 'team-slak' "
            "(did you mean 'team-slack'?)"
        ],
        id="notify names a misspelt destination",
    ),
    pytest.param(
        "health:\n  notify: [ops]\n",
        ["2:12: health: notify names unknown destination 'ops'; no destinations are defined"],
        id="health notify names an unknown destination",
    ),
    pytest.param(
        """\
        feeds:
          - url: https://meduza.io/rss/all
            name: Medusa
        watches:
          - name: w
            keywords: [a]
            feeds: [Meduza, Nasha Niva]
        """,
        [
            "7:13: watch 'w': feeds names unknown feed 'Meduza' (did you mean 'Medusa'?)",
            "7:21: watch 'w': feeds names unknown feed 'Nasha Niva'; "
            "refer to a feed by its name or its url",
        ],
        id="watch names unknown feeds",
    ),
    pytest.param(
        """\
        terms:
          belarus: [Belarus]
        watches:
          - name: w
            keywords: ["@belaruss"]
            exclude: ["@sport"]
        """,
        [
            "5:16: watch 'w': keywords names unknown term group '@belaruss' "
            "(did you mean '@belarus'?)",
            "6:15: watch 'w': exclude names unknown term group '@sport'; define it under 'terms'",
        ],
        id="unknown term groups",
    ),
    pytest.param(
        "terms:\n  my group: [a]\n",
        [
            "2:3: terms: group name 'my group' may hold only letters, digits, '_' and '-' "
            "(it is written @name in watches)"
        ],
        id="group name with a space",
    ),
    pytest.param(
        "database: ~/news.db\n",
        [
            "1:11: database: '~' is not expanded: write the full path, "
            "e.g. /var/lib/newswatch/newswatch.db"
        ],
        id="database under ~",
    ),
    pytest.param(
        "database: ''\n",
        ["1:11: database: must not be empty"],
        id="empty database",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CROSS_CASES)
def test_cross_check_problem_is_reported_at_its_place(text: str, expected: list[str]) -> None:
    """Each cross-section problem is reported at the value that causes it."""
    assert problems(text) == expected
