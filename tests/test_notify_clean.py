"""Feed text made safe for every medium: links, cutting within a budget."""

from __future__ import annotations

import pytest

from newswatch.notify.clean import cut, safe_link, slack_escape


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
