"""Tests for newswatch.parse.authors: author texts to display names."""

from __future__ import annotations

import pytest

from newswatch.parse.authors import author_name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("desk@news.media (Jane Doe)", "Jane Doe"),
        ("Jane Doe <desk@news.media>", "Jane Doe"),
        ("Jane Doe (desk@news.media)", "Jane Doe"),
        ('"Doe, Jane" <jane@news.example.com>', "Doe, Jane"),
        ("mailto:desk@news.example.org (Desk)", "Desk"),
        ("DESK@NEWS.EXAMPLE.ORG (Desk)", "Desk"),
        ("  Jane \n Doe  <desk@news.media> ", "Jane Doe"),
        ("desk@news.media", "desk@news.media"),
        ("<desk@news.media>", "<desk@news.media>"),
        ("desk@news.media ()", "desk@news.media ()"),
        ("Jane Doe", "Jane Doe"),
        ("Jane Doe (Minsk)", "Jane Doe (Minsk)"),
        ("Jane Doe, John Roe", "Jane Doe, John Roe"),
        ("Лукашэнка <press@example.by>", "Лукашэнка"),
        ("", ""),
    ],
)
def test_author_name(text: str, name: str) -> None:
    """The name beside an address is kept whole; other texts stay as written."""
    assert author_name(text) == name


def test_author_name_long_text_is_kept() -> None:
    """A long author text is not searched (no quadratic regex): it stays as written."""
    text = "a@" * 10_000
    assert author_name(text) == text
