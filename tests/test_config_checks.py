"""Watchlist problems reported as configuration errors: the watch, the file line, the
column inside the query (whatever the YAML quoting) and a caret under the spot."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from newswatch.config import ValueProblem, load_config, loads_config
from newswatch.errors import ConfigError
from newswatch.match import check_watchlist

SOURCE = Path("conf/w.yaml")


def report(text: str, env: dict[str, str] | None = None) -> str:
    """Everything the loader says about ``text`` with the watchlist checks."""
    with pytest.raises(ConfigError) as caught:
        loads_config(textwrap.dedent(text), SOURCE, env or {}, checks=(check_watchlist,))
    return str(caught.value)


CASES = [
    pytest.param(
        """\
        watches:
          - name: belarus
            query: '@belarus AND (leak* OR "secret documents"'
        terms: {belarus: [Belarus]}
        """,
        """\
        conf/w.yaml:3:26: watch 'belarus': query: this '(' is never closed: add ')'
                query: '@belarus AND (leak* OR "secret documents"'
                                     ^""",
        id="single-quoted",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            query: Belarus AND
        """,
        """\
        conf/w.yaml:3:23: watch 'w': query: expected a term after AND, but the query ends here
                query: Belarus AND
                                  ^""",
        id="plain, error at the end",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            query: "Belarus AND \\"leaked doc\\" NEAR/x b"
        """,
        "conf/w.yaml:3:40: watch 'w': query: NEAR needs the largest number of words "
        "allowed between its terms, e.g. NEAR/5\n"
        """\
                query: "Belarus AND \\"leaked doc\\" NEAR/x b"
                                                   ^""",
        id="double-quoted with escapes",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            query: "\\"leaked documents"
        """,
        """\
        conf/w.yaml:3:14: watch 'w': query: this phrase is never closed: add the closing "
                query: "\\"leaked documents"
                         ^""",
        id="double-quoted, error on an escaped first character",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            query: >-
              Belarus AND
              title:(leak* OR summary:x)
        """,
        """\
        conf/w.yaml:5:23: watch 'w': query: summary: inside title: can never match: use one field
                  title:(leak* OR summary:x)
                                  ^""",
        id="folded block, second line",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            query: |
              Belarus
              AND lEAK or x
        """,
        "conf/w.yaml:5:16: watch 'w': query: 'or' is not an operator: write OR in "
        'capitals, or "or" in quotes to look for the word\n'
        """\
                  AND lEAK or x
                           ^""",
        id="literal block",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            query: '@belarsu OR x'
        terms: {belarus: [Belarus]}
        """,
        """\
        conf/w.yaml:3:13: watch 'w': query: unknown term group '@belarsu' (did you mean '@belarus'?)
                query: '@belarsu OR x'
                        ^""",
        id="unknown group in a query",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            keywords: [Belarus, "Belarus AND leak"]
        """,
        "conf/w.yaml:3:34: watch 'w': keywords item 2: AND makes this a query, but a "
        "keyword is one term: put boolean expressions in 'query' (or quote the phrase to "
        "look for it)\n"
        """\
                keywords: [Belarus, "Belarus AND leak"]
                                             ^""",
        id="operator in a keyword",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            keywords: [Belarus]
            exclude: ["/[hockey/"]
        """,
        """\
        conf/w.yaml:4:24: watch 'w': exclude item 1: invalid regex: unterminated character set
                exclude: ["/[hockey/"]
                                   ^""",
        id="bad regex in exclude",
    ),
    pytest.param(
        """\
        terms:
          belarus: [Belarus, "le*ak"]
        watches:
          - {name: w, keywords: ["@belarus"]}
        """,
        """\
        conf/w.yaml:2:25: terms 'belarus' item 2: '*' may only end a word, as in leak*
              belarus: [Belarus, "le*ak"]
                                    ^""",
        id="group variant",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            keywords: [Belarus]
            languages: [en, by]
        """,
        "conf/w.yaml:4:21: watch 'w': languages item 2: unknown language 'by' "
        "(did you mean 'be'?); ISO 639-1 codes: ar, be, ca, cs, da, de, el, en, eo, es, et, "
        "eu, fa, fi, fr, ga, hi, hu, hy, id, it, lt, ne, nl, no, pl, pt, ro, ru, sr, st, sv, "
        "ta, tr, uk, yi",
        id="unknown language",
    ),
    pytest.param(
        """\
        watches:
          - name: w
            query: ${QUERY}
        """,
        "conf/w.yaml:3:12: watch 'w': query: 'and' is not an operator: write AND in "
        'capitals, or "and" in quotes to look for the word\n'
        """\
                query: ${QUERY}
                       ^""",
        id="from the environment: at the value",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_query_problem_is_located_inside_the_value(text: str, expected: str) -> None:
    """A problem in a query, keyword, exclude item, variant or language is reported at
    its line and column in the file, with a caret excerpt when it has a spot."""
    lines = [line.removeprefix(" " * 8) for line in expected.split("\n")]
    assert report(text, {"QUERY": "a and b"}) == "\n".join(lines)


def test_query_problems_come_with_the_other_problems() -> None:
    """Query problems are reported together with schema and cross-check problems."""
    output = report(
        """\
        watches:
          - name: w
            query: 'a AND'
            notify: [slak]
          - name: v
            keywords: [Belarus]
            digest: soon
        """
    )
    assert "conf/w.yaml:3:18: watch 'w': query: expected a term" in output
    assert "conf/w.yaml:4:14: watch 'w': notify names unknown destination 'slak'" in output
    assert "conf/w.yaml:7:13: watch 'v': digest: 'soon' is not a duration" in output


def test_query_problems_are_found_beside_an_invalid_watch() -> None:
    """A watch that fails validation does not hide the query problems of the others."""
    output = report(
        """        watches:
          - name: bad
            keywords: [x]
            frequency: 5m
          - name: w
            query: 'a AND'
        """
    )
    assert "conf/w.yaml:4:5: watch 'bad': unknown key 'frequency'" in output
    assert "conf/w.yaml:6:18: watch 'w': query: expected a term" in output


def test_unknown_group_in_keywords_is_reported_once() -> None:
    """The loader's own check of @groups in keywords is not repeated by the query check."""
    output = report(
        """\
        watches:
          - {name: w, keywords: ["@nope"]}
        """
    )
    assert output.count("@nope") == 1


def test_valid_watchlist_loads_and_is_compiled_once(tmp_path: Path) -> None:
    """A valid file loads with the checks; the pipeline then reuses the compiled list."""
    from newswatch.match import compile_watchlist

    path = tmp_path / "w.yaml"
    path.write_text("watches:\n  - {name: w, query: 'Belarus AND leak*', languages: [en]}\n")
    settings = load_config(path, {}, checks=(check_watchlist,))
    assert compile_watchlist(settings) is compile_watchlist(settings)


def test_check_may_report_a_problem_without_a_spot() -> None:
    """A check's problem without an offset is placed at its value, with no caret."""

    def check(settings: object) -> list[ValueProblem]:
        return [ValueProblem(("watches", 0, "name"), "is not allowed")]

    with pytest.raises(ConfigError) as caught:
        loads_config("watches:\n  - {name: w, keywords: [x]}\n", SOURCE, {}, checks=(check,))
    assert str(caught.value) == "conf/w.yaml:2:12: watch 'w': name: is not allowed"
