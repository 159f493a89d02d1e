"""Feed text made safe for every medium: links, cutting within a budget, the hit kept."""

from __future__ import annotations

import pytest

from newswatch.notify.clean import cut, safe_link, slack_escape
from newswatch.notify.console import console_text
from newswatch.notify.email import email_message
from support.alerts import make_alert


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org/a?b=1&c=2", True),
        ("http://example.org", True),
        ("HTTPS://EXAMPLE.ORG/x", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("vbscript:msgbox", False),
        ("//example.org/relative", False),
        ("/relative/path", False),
        ("https://exa mple.org/", False),
        ("https://example.org/\u202egnp.exe", False),
        ("http:///no-host", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_link(url: str | None, safe: bool) -> None:
    """Only absolute http(s) URLs with a host and no whitespace or controls are links."""
    assert (safe_link(url) is not None) is safe


def test_cut_never_splits_an_escape() -> None:
    """Cutting escaped text keeps whole entities and ends in an ellipsis."""
    out = cut("&" * 100, 23, slack_escape)
    assert out == "&amp;" * 4 + "…"
    assert cut("short", 10) == "short"
    assert cut("abcdefghij", 5, keep_end=True) == "…ghij"


def test_huge_text_is_bounded_in_email_and_console_with_the_hit_kept() -> None:
    """A megabyte title or snippet is cut in every body; the first hit stays marked."""
    huge = "x " * 500_000
    alert = make_alert(title=huge, snippet=huge + "Lukashenko " + huge)
    console = console_text(alert)
    assert len(console) < 3000 and "**Lukashenko**" in console
    msg = email_message(alert, "n@example.org", ["a@example.org"])
    html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
    assert html_part is not None and text_part is not None
    assert (
        len(html_part.get_content()) < 6000 and "<mark>Lukashenko</mark>" in html_part.get_content()
    )
    assert len(text_part.get_content()) < 6000 and "**Lukashenko**" in text_part.get_content()
