"""Loading, validating and describing watchlist.yaml (SPEC §3)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from newswatch.config import (
    ConsoleDestination,
    describe,
    format_duration,
    format_size,
    load_config,
    loads_config,
    substitute_env,
)
from newswatch.config.yamldoc import read_document
from newswatch.errors import ConfigError
from support.configs import SOURCE, VALID_KEYS, load, problems

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "config" / "watchlist.yaml"


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
