"""Loading, validating and describing watchlist.yaml (SPEC §3)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from newswatch.config import (
    ConsoleDestination,
    Settings,
    describe,
    format_duration,
    format_size,
    load_config,
    loads_config,
    substitute_env,
)
from newswatch.config.yamldoc import read_document
from newswatch.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "config" / "watchlist.yaml"
SOURCE = Path("conf/w.yaml")


def load(text: str, env: dict[str, str] | None = None) -> Settings:
    """Load ``text`` (dedented) as if read from conf/w.yaml."""
    return loads_config(dedent(text), SOURCE, env or {})


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    """The ``LINE:COLUMN: message`` of every problem loading ``text`` reports."""
    with pytest.raises(ConfigError) as info:
        load(text, env)
    assert all(p.path == str(SOURCE) for p in info.value.problems)
    return [f"{p.line}:{p.column}: {p.message}" for p in info.value.problems]


VALID_KEYS = "database, poll, terms, feeds, watches, health, stories, retention, destinations"
TYPES = "slack, webhook, email, console"

# A bomb of aliases: each level repeats the one above ten times (10^6 values in all).
ALIAS_BOMB = "a: &a [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n" + "".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n" for p, k in zip("abcde", "bcdef", strict=True)
)

YAML_CASES = [
    pytest.param(
        "",
        ["1:1: the file is empty: write the configuration as YAML keys, e.g. feeds:"],
        id="empty file",
    ),
    pytest.param(
        "# nothing\n# here\n",
        ["1:1: the file is empty: write the configuration as YAML keys, e.g. feeds:"],
        id="only comments",
    ),
    pytest.param(
        "---\n...\n",
        ["1:1: the file is empty: write the configuration as YAML keys, e.g. feeds:"],
        id="only document markers",
    ),
    pytest.param(
        "- feeds\n",
        ["1:1: the top level must be a mapping of keys such as 'feeds:'"],
        id="top level is a list",
    ),
    pytest.param(
        "# a comment\nhello\n",
        ["2:1: the top level must be a mapping of keys such as 'feeds:'"],
        id="top level is a word",
    ),
    pytest.param(
        """\
        poll:
          interval: 5m
         timeout: 30s
        """,
        [
            "3:2: invalid YAML: expected <block end>, but found '<block mapping start>' "
            "(while parsing a block mapping at line 1, column 1): check the indentation"
        ],
        id="bad indentation",
    ),
    pytest.param(
        "poll:\n\tinterval: 5m\n",
        [
            "2:1: invalid YAML: found character '\\t' that cannot start any token: "
            "indent with spaces, not tabs"
        ],
        id="tab",
    ),
    pytest.param(
        "database: 'news.db\n",
        [
            "2:1: invalid YAML: found unexpected end of stream "
            "(while scanning a quoted scalar at line 1, column 11)"
        ],
        id="unclosed quote",
    ),
    pytest.param(
        "database: a: b\n",
        [
            "1:12: invalid YAML: mapping values are not allowed here: "
            "check the indentation, or quote a value that holds ': '"
        ],
        id="colon in a plain value",
    ),
    pytest.param(
        "feeds: []\n---\nwatches: []\n",
        ["2:1: the file holds more than one YAML document: keep one"],
        id="two documents",
    ),
    pytest.param(
        "feeds: *nope\n",
        ["1:8: invalid YAML: found undefined alias 'nope'"],
        id="undefined alias",
    ),
    pytest.param(
        "feeds: [a\x07]\n",
        ["1:10: character U+0007 is not allowed in YAML: remove it"],
        id="control character",
    ),
    pytest.param(
        "feeds: " + "[" * 5000,
        ["1:1: invalid YAML: the values are nested too deeply"],
        id="nested too deeply",
    ),
    pytest.param(
        "feeds: &a [*a]\n",
        ["1:8: an alias refers to a value that contains it"],
        id="recursive alias",
    ),
    pytest.param(
        ALIAS_BOMB,
        ["1:35: the file expands to more than 100000 values (through aliases?)"],
        id="alias bomb",
    ),
    pytest.param(
        "feeds: []\nwatches: []\nfeeds: []\n",
        ["3:1: duplicate key 'feeds' (first at line 1): keep one"],
        id="duplicate top-level key",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            keywords: [a]
            keywords: [b]
        """,
        ["4:5: watch 'w': duplicate key 'keywords' (first at line 3): keep one"],
        id="duplicate key in a watch",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            keywords: [a]
            <<: {exclude: [b]}
        """,
        ["4:5: watch 'w': merge keys ('<<') are not supported: write the keys out"],
        id="merge key",
    ),
    pytest.param(
        "? [a, b]\n: c\n",
        ["1:3: a key must be a plain word, not a list or a mapping"],
        id="complex key",
    ),
    pytest.param(
        "feeds: !!set {a, b}\n",
        ["1:8: feeds: unsupported tag '!!set': remove it"],
        id="set tag",
    ),
    pytest.param(
        "database: !local news.db\n",
        ["1:11: database: unsupported tag '!local': remove it"],
        id="local tag",
    ),
    pytest.param(
        "poll:\n  concurrency: !!int many\n",
        ["2:16: poll.concurrency: 'many' cannot be read as !!int"],
        id="explicit int tag on a word",
    ),
]


@pytest.mark.parametrize(("text", "expected"), YAML_CASES)
def test_yaml_problem_is_reported_at_its_place(text: str, expected: list[str]) -> None:
    """Each YAML-level problem gets its message, line and column."""
    assert problems(text) == expected


ENV_CASES = [
    pytest.param(
        """\
        destinations:
          - name: hook
            type: webhook
            url: ${HOOK_URL}
        """,
        {},
        [
            "4:10: destination 'hook': url: environment variable HOOK_URL is not set: "
            "set it, or write ${HOOK_URL:-default}"
        ],
        id="missing variable",
    ),
    pytest.param(
        "database: ${1DB}.db\n",
        {},
        [
            "1:11: database: '${1DB}' is not a variable reference: "
            "write ${NAME} or ${NAME:-default} (and $${ for a literal ${)"
        ],
        id="bad variable name",
    ),
    pytest.param(
        "database: ${DB.db\n",
        {},
        [
            "1:11: database: '${' is not a variable reference: "
            "write ${NAME} or ${NAME:-default} (and $${ for a literal ${)"
        ],
        id="unclosed reference",
    ),
    pytest.param(
        "database: ${DIR}/${NAME}\n",
        {},
        [
            "1:11: database: environment variable DIR is not set: set it, or write ${DIR:-default}",
            "1:11: database: environment variable NAME is not set: "
            "set it, or write ${NAME:-default}",
        ],
        id="two missing variables",
    ),
    pytest.param(
        """\
        destinations:
          - name: hook
            type: webhook
            url: ${HOOK_URL}
        """,
        {"HOOK_URL": "hooks.example.org/s3cret"},
        [
            "4:10: destination 'hook': url: the value is not an http(s) URL with a host "
            "(the value comes from ${HOOK_URL})"
        ],
        id="substituted value is invalid",
    ),
    pytest.param(
        "poll:\n  interval: ${EVERY}\n",
        {"EVERY": "5x"},
        [
            "2:13: poll.interval: the value is not a duration: write e.g. 30s, 5m, 1h30m, 1d "
            "(the value comes from ${EVERY})"
        ],
        id="substituted duration is invalid",
    ),
]


@pytest.mark.parametrize(("text", "env", "expected"), ENV_CASES)
def test_env_problem_is_reported_at_the_value(
    text: str, env: dict[str, str], expected: list[str]
) -> None:
    """Each ${VAR} problem names the variable, at the scalar that uses it."""
    assert problems(text, env) == expected


EMAIL = """\
destinations:
  - name: mail
    type: email
    to: [analyst@example.org]
    from: newswatch@example.org
    host: smtp.example.org
"""

SCHEMA_CASES = [
    pytest.param(
        "feed: []\n",
        ["1:1: unknown key 'feed' (did you mean 'feeds'?)"],
        id="unknown top-level key, close",
    ),
    pytest.param(
        "colour: red\n",
        [f"1:1: unknown key 'colour'; valid keys: {VALID_KEYS}"],
        id="unknown top-level key, far",
    ),
    pytest.param(
        "source: other.yaml\n",
        ["1:1: unknown key 'source' (did you mean 'stories'?)"],
        id="source is not a key",
    ),
    pytest.param(
        "poll:\n  intervall: 5m\n",
        ["2:3: poll: unknown key 'intervall' (did you mean 'interval'?)"],
        id="unknown poll key",
    ),
    pytest.param(
        """\
        watches:
          - name: belarus
            keywords: [Belarus]
            exlude: [hockey]
        """,
        ["4:5: watch 'belarus': unknown key 'exlude' (did you mean 'exclude'?)"],
        id="unknown watch key",
    ),
    pytest.param(
        EMAIL + "    pasword: x\n",
        ["7:5: destination 'mail': unknown key 'pasword' (did you mean 'password'?)"],
        id="unknown destination key",
    ),
    pytest.param(
        "watches:\n  - keywords: [a]\n",
        ["2:5: watch 1: missing key 'name'"],
        id="watch without name",
    ),
    pytest.param(
        "feeds:\n  - name: X\n",
        ["2:5: feed 'X': missing key 'url'"],
        id="feed without url",
    ),
    pytest.param(
        "destinations:\n  - name: mail\n    type: email\n    to: [a@example.org]\n",
        [
            "2:5: destination 'mail': missing key 'from'",
            "2:5: destination 'mail': missing key 'host'",
        ],
        id="email without from and host",
    ),
    pytest.param(
        "destinations:\n  - name: x\n",
        [f"2:5: destination 'x': missing key 'type'; valid types: {TYPES}"],
        id="destination without type",
    ),
    pytest.param(
        "destinations:\n  - name: x\n    type: slak\n",
        [
            "3:11: destination 'x': unknown type 'slak' (did you mean 'slack'?); "
            f"valid types: {TYPES}"
        ],
        id="destination of unknown type",
    ),
    pytest.param(
        "destinations:\n  - terminal\n",
        ["2:5: destination 1: must be a mapping of keys and values, not text"],
        id="destination is a word",
    ),
    pytest.param(
        "poll:\n  interval: 5x\n",
        ["2:13: poll.interval: '5x' is not a duration: write e.g. 30s, 5m, 1h30m, 1d"],
        id="bad duration",
    ),
    pytest.param(
        "poll:\n  timeout: 30\n",
        ["2:12: poll.timeout: a duration needs a unit, e.g. '30s' or '5m' (units: ms s m h d w)"],
        id="duration without unit",
    ),
    pytest.param(
        "health:\n  stale_after: 0s\n",
        ["2:16: health.stale_after: duration '0s' must be longer than zero"],
        id="zero duration",
    ),
    pytest.param(
        "poll:\n  max_bytes: 10 megs\n",
        ["2:14: poll.max_bytes: '10 megs' is not a size: write e.g. 10MB, 512KiB or 1000000"],
        id="bad size",
    ),
    pytest.param(
        "poll:\n  concurrency: 0\n",
        ["2:16: poll.concurrency: must be at least 1"],
        id="concurrency too small",
    ),
    pytest.param(
        "poll:\n  concurrency: 5000\n",
        ["2:16: poll.concurrency: must be at most 1000"],
        id="concurrency too large",
    ),
    pytest.param(
        "poll:\n  concurrency: many\n",
        ["2:16: poll.concurrency: 'many' is not a whole number"],
        id="concurrency not a number",
    ),
    pytest.param(
        "poll:\n  concurrency: [1]\n",
        ["2:16: poll.concurrency: must be a whole number, not a list"],
        id="concurrency is a list",
    ),
    pytest.param(
        "poll:\n  concurrency: 1.5\n",
        ["2:16: poll.concurrency: '1.5' is not a whole number"],
        id="concurrency is a fraction",
    ),
    pytest.param(
        "poll:\n  concurrency: true\n",
        ["2:16: poll.concurrency: expected a whole number, not true"],
        id="concurrency is a boolean",
    ),
    pytest.param(
        "poll:\n  first_run: sometimes\n",
        ["2:14: poll.first_run: 'sometimes' is not a duration: write e.g. 30s, 5m, 1h30m, 1d"],
        id="bad first_run",
    ),
    pytest.param(
        EMAIL + "    security: startls\n",
        [
            "7:15: destination 'mail': security: 'startls' is not one of starttls, ssl, none "
            "(did you mean 'starttls'?)"
        ],
        id="unknown security",
    ),
    pytest.param(
        EMAIL + "    port: 70000\n",
        ["7:11: destination 'mail': port: must be at most 65535"],
        id="port too large",
    ),
    pytest.param(
        EMAIL.replace("[analyst@example.org]", "[analyst]"),
        [
            "4:10: destination 'mail': to item 1: 'analyst' is not an email address "
            "(name@example.org)"
        ],
        id="bad address",
    ),
    pytest.param(
        EMAIL.replace("[analyst@example.org]", "[]"),
        ["4:9: destination 'mail': to: must not be an empty list"],
        id="no recipient",
    ),
    pytest.param(
        "watches:\n  - name: w\n    keywords: [a, '']\n",
        ["3:19: watch 'w': keywords item 2: must not be empty"],
        id="empty keyword",
    ),
    pytest.param(
        "watches:\n  - name: w\n    keywords: [a, ~]\n",
        ["3:19: watch 'w': keywords item 2: has no value: remove the item"],
        id="null keyword",
    ),
    pytest.param(
        "watches:\n  -\n",
        ["2:4: watch 1: has no value: remove the item"],
        id="empty watch",
    ),
    pytest.param(
        "watches:\n  - name: w\n    keywords: Belarus\n",
        ["3:15: watch 'w': keywords: must be a list, e.g. [a, b], not text"],
        id="keywords not a list",
    ),
    pytest.param(
        "watches:\n  - name: [a]\n    keywords: [a]\n",
        ["2:11: watch 1: name: must be text, not a list"],
        id="name is a list",
    ),
    pytest.param(
        "watches:\n  - name: " + "w" * 201 + "\n    keywords: [a]\n",
        ["2:11: watch '" + "w" * 201 + "': name: is too long: at most 200 characters"],
        id="name too long",
    ),
    pytest.param(
        "watches:\n  - name: w\n",
        ["2:5: watch 'w': needs 'keywords' or 'query' (or both): say what to look for"],
        id="watch without keywords or query",
    ),
    pytest.param(
        "watches:\n  - name: w\n    query: [a]\n",
        ["3:12: watch 'w': query: must be text, not a list"],
        id="query is not text",
    ),
    pytest.param(
        "poll: [1]\n",
        ["1:7: poll: must be a mapping of keys and values, not a list"],
        id="poll is a list",
    ),
    pytest.param(
        "health:\nfeeds: []\n",
        ["1:8: health: has no value: give one or remove the key"],
        id="health without value",
    ),
    pytest.param(
        "database: [a]\n",
        ["1:11: database: must be a file path, not a list"],
        id="database is a list",
    ),
    pytest.param(
        "terms: [a]\n",
        ["1:8: terms: must be a mapping of keys and values, not a list"],
        id="terms is a list",
    ),
    pytest.param(
        "terms:\n  belarus: []\n",
        ["2:12: terms 'belarus': must not be an empty list"],
        id="empty term group",
    ),
    pytest.param(
        "terms:\n  belarus: [Belarus, '']\n",
        ["2:22: terms 'belarus' item 2: must not be empty"],
        id="empty variant",
    ),
    pytest.param(
        "destinations:\n  - name: s\n    type: slack\n"
        "    url: hooks.slack.com/services/T/B/s3cret\n",
        ["4:10: destination 's': url: the value is not an http(s) URL with a host"],
        id="slack url without scheme, not echoed",
    ),
    pytest.param(
        "destinations:\n  - name: h\n    type: webhook\n    url: https://example.org/\n"
        "    headers: {X-Token: [a]}\n",
        ["5:24: destination 'h': headers 'X-Token': must be text, not a list"],
        id="header value is a list",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SCHEMA_CASES)
def test_schema_problem_is_reported_at_its_place(text: str, expected: list[str]) -> None:
    """Each validation problem gets a plain message, its context, line and column."""
    assert problems(text) == expected


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


def test_problem_prints_as_path_line_column_message() -> None:
    """A ConfigError prints one PATH:LINE:COLUMN: message line per problem."""
    with pytest.raises(ConfigError) as info:
        load("feed: []\ncolor: red\n")
    assert str(info.value) == (
        "conf/w.yaml:1:1: unknown key 'feed' (did you mean 'feeds'?)\n"
        f"conf/w.yaml:2:1: unknown key 'color'; valid keys: {VALID_KEYS}"
    )


def test_every_problem_is_reported_at_once() -> None:
    """YAML, validation and cross-check problems of one file come together, in file order."""
    text = """\
        poll:
          interval: 5x
        watches:
          - name: belarus
            keywords: [Belarus]
            notify: [slak]
            exlude: [hockey]
        destinations:
          - name: hook
            type: webhook
            url: ${HOOK_URL}
        """
    assert problems(text) == [
        "2:13: poll.interval: '5x' is not a duration: write e.g. 30s, 5m, 1h30m, 1d",
        "6:14: watch 'belarus': notify names unknown destination 'slak'; known destinations: hook",
        "7:5: watch 'belarus': unknown key 'exlude' (did you mean 'exclude'?)",
        "11:10: destination 'hook': url: environment variable HOOK_URL is not set: "
        "set it, or write ${HOOK_URL:-default}",
    ]


def test_yaml_1_1_words_stay_words() -> None:
    """no/on/off/yes, sexagesimals, octals and dates are read as the words written."""
    settings = load(
        """\
        watches:
          - name: w
            keywords: [no, on, off, yes, Y, 1:30, 0o17, 0x1F, 2024-11-24, .inf]
        """
    )
    keywords = ("no", "on", "off", "yes", "Y", "1:30", "0o17", "0x1F", "2024-11-24", ".inf")
    assert settings.watches[0].keywords == keywords


def test_numbers_where_text_is_expected_are_taken_as_written() -> None:
    """A keyword or name that YAML reads as a number or boolean keeps its written form."""
    settings = load(
        """\
        feeds:
          - url: https://example.org/a.xml
            name: 1984
        watches:
          - name: 2024
            keywords: [1.50, 007, TRUE]
            feeds: [1984]
        """
    )
    assert settings.feeds[0].name == "1984"
    assert settings.watches[0].name == "2024"
    assert settings.watches[0].keywords == ("1.50", "007", "TRUE")
    assert settings.watches[0].feeds == ("1984",)


def test_core_schema_types() -> None:
    """Only null, true/false in any case, decimal ints and floats get a type."""
    doc, issues = read_document(
        "a: ~\nb: NULL\nc:\nd: True\ne: FALSE\nf: 42\ng: -1.5e3\nh: yes\ni: 0x10\nj: '7'\n", {}
    )
    assert issues == []
    assert doc.data == {
        "a": None,
        "b": None,
        "c": None,
        "d": True,
        "e": False,
        "f": 42,
        "g": -1500.0,
        "h": "yes",
        "i": "0x10",
        "j": "7",
    }


def test_watch_may_name_a_feed_by_name_or_url() -> None:
    """A watch's feeds list accepts a feed's configured name or its url."""
    settings = load(
        """\
        feeds:
          - url: https://example.org/a.xml
            name: A
          - url: https://example.org/b.xml
        watches:
          - name: w
            keywords: [x]
            feeds: [A, https://example.org/b.xml]
        """
    )
    assert settings.watches[0].feeds == ("A", "https://example.org/b.xml")


def test_anchors_and_aliases_are_allowed() -> None:
    """An alias repeats a value defined once (here a notify list)."""
    settings = load(
        """\
        destinations:
          - {name: a, type: console}
          - {name: b, type: console}
        watches:
          - {name: one, keywords: [x], notify: &team [a, b]}
          - {name: two, keywords: [y], notify: *team}
        """
    )
    assert [w.notify for w in settings.watches] == [("a", "b"), ("a", "b")]


def test_env_default_is_used_when_unset() -> None:
    """${VAR:-default} falls back to the default when the variable is missing."""
    settings = load("poll:\n  interval: ${EVERY:-2m}\n")
    assert settings.poll.interval == timedelta(minutes=2)


def test_env_value_is_used_when_set() -> None:
    """${VAR} and ${VAR:-default} take the variable's value when it is set."""
    settings = load(
        "poll:\n  interval: ${EVERY:-2m}\n  timeout: ${WAIT}\n", {"EVERY": "90s", "WAIT": "5s"}
    )
    assert settings.poll.interval == timedelta(seconds=90)
    assert settings.poll.timeout == timedelta(seconds=5)


def test_env_escape_writes_a_literal_reference() -> None:
    """$${ writes a literal ${ and needs no variable."""
    settings = load("watches:\n  - name: w\n    keywords: ['cost $${X}']\n")
    assert settings.watches[0].keywords == ("cost ${X}",)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "x"}, ("x", ["A"], [])),
        ("${A:-d}", {}, ("d", ["A"], [])),
        ("${A:-d}", {"A": ""}, ("d", ["A"], [])),
        ("${A}", {"A": ""}, ("", ["A"], [])),
        ("a$${b}c", {}, ("a${b}c", [], [])),
        ("$$ and $HOME", {}, ("$$ and $HOME", [], [])),
        ("${A}${B:-}", {"A": "1"}, ("1", ["A", "B"], [])),
    ],
)
def test_substitute_env(
    text: str, env: dict[str, str], expected: tuple[str, list[str], list[str]]
) -> None:
    """substitute_env replaces references, honours defaults and the $${ escape."""
    assert substitute_env(text, env) == expected


def test_keys_are_not_substituted() -> None:
    """${...} in a key stays as written (and is then an unknown key)."""
    assert problems("${KEY}: 1\n", {"KEY": "feeds"})[0].startswith("1:1: unknown key '${KEY}'")


def test_relative_database_resolves_against_the_config_folder() -> None:
    """Without $STATE_DIRECTORY a relative database lives next to the config file."""
    assert load("database: state/news.db\n").database == Path("conf/state/news.db")


def test_relative_database_resolves_against_state_directory() -> None:
    """Under systemd the first $STATE_DIRECTORY folder holds a relative database."""
    env = {"STATE_DIRECTORY": "/var/lib/newswatch:/var/lib/other"}
    assert load("database: news.db\n", env).database == Path("/var/lib/newswatch/news.db")


def test_absolute_database_is_kept() -> None:
    """An absolute database path is used as written."""
    env = {"STATE_DIRECTORY": "/var/lib/newswatch"}
    assert load("database: /srv/news.db\n", env).database == Path("/srv/news.db")


def test_default_database_and_source() -> None:
    """Without a database key the file is newswatch.db; source is the config path."""
    settings = load("feeds: []\n")
    assert settings.database == Path("conf/newswatch.db")
    assert settings.source == SOURCE


def test_load_config_reads_the_file(tmp_path: Path) -> None:
    """load_config reads UTF-8 (with or without a BOM) from disk."""
    path = tmp_path / "watchlist.yaml"
    path.write_bytes("\ufeffterms:\n  belarus: [Беларусь]\n".encode())
    settings = load_config(path, {})
    assert settings.terms == {"belarus": ("Беларусь",)}
    assert settings.database == tmp_path / "newswatch.db"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A file that cannot be read is a ConfigError naming the file."""
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert str(info.value) == f"{path}:1:1: cannot read the file: No such file or directory"


def test_non_utf8_file_is_reported_where_it_breaks(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported at their line and column."""
    path = tmp_path / "w.yaml"
    path.write_bytes(b"feeds: []\nwatches: [caf\xe9]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert str(info.value) == f"{path}:2:14: the file is not UTF-8 text: save it as UTF-8"


def test_shipped_config_loads_without_secrets() -> None:
    """config/watchlist.yaml is valid with an environment that holds no secrets."""
    settings = load_config(SHIPPED, {})
    assert settings.source == SHIPPED
    assert settings.database == SHIPPED.parent / "newswatch.db"
    assert len(settings.feeds) >= 10
    assert all(feed.name for feed in settings.feeds)
    watch = settings.watches[0]
    assert watch.name == "belarus"
    assert watch.keywords == ("@belarus", "@lukashenko", "leaked documents")
    assert "hockey" in watch.exclude
    assert {"Belarus", "Беларусь", "Білорусь"} <= set(settings.terms["belarus"])
    assert {"Lukashenko", "Лукашенко", "Лукашэнка"} <= set(settings.terms["lukashenko"])
    assert [type(d) for d in settings.destinations] == [ConsoleDestination]
    assert settings.poll.first_run == timedelta(hours=24)


def test_shipped_config_lists_commented_destinations_reading_secrets_from_env() -> None:
    """The commented-out Slack, webhook and email examples take secrets from ${...}."""
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    for reference in ("${SLACK_WEBHOOK_URL}", "${NEWSWATCH_WEBHOOK_SECRET}", "${SMTP_PASSWORD}"):
        [line] = [line for line in lines if reference in line]
        assert line.lstrip().startswith("#")


SECRETS = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/slacksecret",
    "HOOK_SECRET": "hmacsecret",
    "HOOK_TOKEN": "bearersecret",
    "SMTP_PASSWORD": "smtpsecret",
    "HOOK_URL": "https://hooks.example.org/in/urltoken",
}

SECRET_CONFIG = """\
feeds:
  - url: https://user:feedpassword@example.org/private.xml?key=feedtoken
  - url: https://example.org/world.xml
    name: World
    interval: 90s
watches:
  - name: belarus
    keywords: [Belarus, "leaked documents"]
    query: 'Belarus AND leak*'
    notify: [team-slack]
    digest: 1h
destinations:
  - name: team-slack
    type: slack
    url: ${SLACK_WEBHOOK_URL}
  - name: ops-hook
    type: webhook
    url: ${HOOK_URL}
    secret: ${HOOK_SECRET}
    headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
  - name: analysts
    type: email
    to: [analyst@example.org]
    from: newswatch@example.org
    host: smtp.example.org
    username: newswatch
    password: ${SMTP_PASSWORD}
"""


def test_describe_never_shows_a_secret() -> None:
    """The check summary masks URLs, passwords, signing secrets and header values."""
    summary = describe(loads_config(SECRET_CONFIG, SOURCE, SECRETS))
    for secret in ("slacksecret", "hmacsecret", "bearersecret", "smtpsecret", "urltoken"):
        assert secret not in summary
    assert "feedpassword" not in summary
    assert "feedtoken" not in summary


def test_describe_summarises_every_section() -> None:
    """The summary lists database, poll defaults, feeds, watches and destinations."""
    summary = describe(loads_config(SECRET_CONFIG, SOURCE, SECRETS))
    assert summary.splitlines() == [
        "configuration: conf/w.yaml",
        "database: conf/newswatch.db (article text kept 90d)",
        "poll: every 5m, timeout 30s, at most 10 MB a feed, 32 feeds at once, "
        "first fetch of a feed: alert items newer than 24h",
        "feeds: 2",
        "  https://example.org/private.xml?…, every 5m",
        "  World: https://example.org/world.xml, every 1m30s",
        "watches: 1",
        "  belarus: keywords Belarus, \"leaked documents\"; query 'Belarus AND leak*'; "
        "feeds all; notify team-slack; digest every 1h",
        "health: notices to nobody; a feed is failing after 6h, stale after 7d",
        "stories: one alert per story; near-duplicates within 3d join it (threshold 0.5)",
        "destinations: 3",
        "  team-slack: slack https://hooks.slack.com/…; at most 1 per 1s, "
        "more than 10 waiting go as digests",
        "  ops-hook: webhook https://hooks.example.org/…, signed, headers Authorization",
        "  analysts: email to analyst@example.org from newswatch@example.org via "
        "smtp.example.org:587 (starttls), with login; more than 10 waiting go as digests",
    ]


def test_describe_shipped_config() -> None:
    """The shipped config's summary names its watch, its feeds and the console."""
    summary = describe(load_config(SHIPPED, {}))
    assert '  belarus: keywords @belarus, @lukashenko, "leaked documents"' in summary
    assert "  terminal: console (standard output)" in summary
    assert "  Meduza: https://meduza.io/rss/all, every 5m" in summary


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=7), "7d"),
        (timedelta(milliseconds=1500), "1s500ms"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    """Durations print in the notation the config file uses."""
    assert format_duration(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(10 * 10**6, "10 MB"), (2**20, "1 MiB"), (512 * 2**10, "512 KiB"), (1234, "1234 bytes")],
)
def test_format_size(value: int, text: str) -> None:
    """Sizes print with a decimal or binary unit when one divides them exactly."""
    assert format_size(value) == text
