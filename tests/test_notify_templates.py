"""User templates: sandboxed Jinja2 whose output is always escaped for its medium."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from newswatch.config import loads_config
from newswatch.errors import ConfigError
from newswatch.notify.templates import AlertTemplate
from support.alerts import make_alert

HOSTILE = make_alert(title="<!here> & <b>bold</b>", link="javascript:alert(1)")


@pytest.mark.parametrize(
    "source",
    [
        "{{ alert.title }}",
        "{{ alert.title|safe }}",
        "{{ alert.title|e }}",
        "{% autoescape false %}{{ alert.title }}{% endautoescape %}",
        "{% set t = alert.title %}{{ t|safe }}",
    ],
)
def test_slack_escaping_cannot_be_turned_off(source: str) -> None:
    """Whatever the template says, feed text comes out Slack-escaped exactly once."""
    out = AlertTemplate(source, "slack", destination="d", what="t").render(HOSTILE)
    assert out == "&lt;!here&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"


def test_html_template_escapes_and_links_only_http() -> None:
    """HTML output escapes feed text; link() makes links only of http(s) URLs."""
    template = AlertTemplate(
        "<h1>{{ alert.title|safe }}</h1>{{ link(alert.url, alert.title) }}"
        "{{ link('https://ok.example/?a=1&b=<2>', 'ok') }}",
        "html",
        destination="d",
        what="t",
    )
    out = template.render(HOSTILE)
    assert out == (
        "<h1>&lt;!here&gt; &amp; &lt;b&gt;bold&lt;/b&gt;</h1>"
        "&lt;!here&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
        '<a href="https://ok.example/?a=1&amp;b=&lt;2&gt;">ok</a>'
    )


def test_sandbox_refuses_python_internals() -> None:
    """A template cannot reach Python objects behind the data; it falls back (None)."""
    template = AlertTemplate(
        "{{ alert.__class__.__mro__ }}{{ ''.__class__.__subclasses__() }}",
        "text",
        destination="d",
        what="t",
    )
    assert template.render(make_alert()) is None


def test_unknown_variable_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A template naming something that does not exist renders nothing; a warning says so."""
    template = AlertTemplate("{{ alert.headline }}", "text", destination="chat", what="template")
    with caplog.at_level(logging.WARNING):
        assert template.render(make_alert()) is None
    assert "template failed" in caplog.text and "destination=chat" in caplog.text


def test_template_syntax_error_is_a_located_config_error(tmp_path: Path) -> None:
    """A template that does not compile is a configuration error at its line."""
    text = (
        "destinations:\n"
        "  - name: chat\n"
        "    type: slack\n"
        "    url: https://hooks.example.org/x\n"
        "    template: '{{ alert.title '\n"
    )
    with pytest.raises(ConfigError) as caught:
        loads_config(text, tmp_path / "w.yaml", {})
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (5, 15)
    assert "template error" in problem.message


def test_webhook_takes_no_template(tmp_path: Path) -> None:
    """Webhooks send the fixed JSON contract: a template key there is an unknown key."""
    text = (
        "destinations:\n"
        "  - {name: hook, type: webhook, url: 'https://h.example/x', template: '{{ x }}'}\n"
    )
    with pytest.raises(ConfigError, match="unknown key 'template'"):
        loads_config(text, tmp_path / "w.yaml", {})
