"""Tests for newswatch.config.validation: pydantic's errors in plain words, at their place."""

from __future__ import annotations

import pytest

from support.configs import TYPES, VALID_KEYS, problems

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
