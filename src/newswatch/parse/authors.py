"""An author's display name from the text a feed wrote.

feedparser's ``author_detail.name`` is what is left after cutting out what its e-mail regex
matches (2–4-letter TLDs only): ``desk@news.media (Jane Doe)`` became ``a (Jane Doe``.
Here the raw author text is split on its shape instead: ``email (Name)``, ``Name <email>``
and ``Name (email)`` give the name; a bare address, or anything else, stays as written.
"""

from __future__ import annotations

import re

__all__ = ["author_name"]

_EMAIL = r"(?:mailto:)?[^\s@<>()\"]+@[^\s@<>()\"]+"
_SHAPES = (
    re.compile(rf"{_EMAIL}\s*\((?P<name>[^()]*)\)", re.IGNORECASE),  # desk@x.org (Jane Doe)
    re.compile(rf"(?P<name>[^<>]*?)\s*<{_EMAIL}>", re.IGNORECASE),  # Jane Doe <desk@x.org>
    re.compile(rf"(?P<name>[^()]*?)\s*\({_EMAIL}\)", re.IGNORECASE),  # Jane Doe (desk@x.org)
)
# A name with an address beside it is short; longer text is not searched (and stays as is).
_MAX_LENGTH = 300


def author_name(text: str) -> str:
    """The name in an author text with an address beside it, else the text itself (both
    with whitespace collapsed)."""
    text = " ".join(text.split())
    if len(text) > _MAX_LENGTH:
        return text
    for shape in _SHAPES:
        found = shape.fullmatch(text)
        if found:
            name = found["name"].strip().strip('"').strip()
            return name or text
    return text
