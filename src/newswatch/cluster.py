"""Near-duplicate stories (SPEC §4): a text signature per article, and the rule that says
whether two signatures are one story.

Pure: no I/O, no clock. ``signature`` turns an article into a ``StorySignature`` — LSH keys
(two articles that share one are candidates) and an opaque ``data`` blob; the store keeps
both and looks candidates up by key inside its write transaction, then asks ``same_story``
about each. The pipeline hands this module's functions to the store.

The technique is MinHash over word shingles (datasketch), banded into LSH keys:

- text: the title and the longer of summary and content, NFKC case-folded, with
  boilerplate ("share this article", "subscribe", "source link", "the post … appeared first
  on …", comment and copyright footers) removed before shingling;
- similarity: the estimated Jaccard similarity of the two bodies' shingle sets, and their
  containment (how much of the shorter text is in the longer one), which is what survives
  truncation and boilerplate wrapped around a copy;
- precision first: too little text (a title alone) never joins anything, and the bar is set
  so that distinct stories sharing names and places stay apart (see README, "Stories").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Final

from newswatch.models import Article, StorySignature

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_THRESHOLD",
    "Similarity",
    "Text",
    "compare",
    "judge",
    "same_story",
    "signature",
    "text_of",
    "tokens",
]

SHINGLE: Final = 2  # words per shingle, for judging
MIN_SHINGLES: Final = 20  # below this a text is too short to be judged a copy of anything
DEFAULT_THRESHOLD: Final = 0.5
MIN_THRESHOLD: Final = 0.3  # under this LSH would miss most of what the rule accepts
LEDE_CONTAINMENT: Final = 0.8  # a shorter text found at the start of a longer one
LEDE_SLACK: Final = 10  # words the start of the longer text may have in excess
# LSH over 3-word shingles (rarer than pairs, so unrelated texts seldom share a key): the
# whole body in 42 bands of 3 MinHash rows, which finds 9 in 10 pairs with a Jaccard of 0.38
# (about 0.5 in pairs of words, the threshold), and its first 24 words in 8 bands of 4 (a
# teaser finds the full text it was cut from, whatever its length).
KEY_SHINGLE: Final = 3
BANDS: Final = 42
ROWS: Final = 3
NUM_PERM: Final = BANDS * ROWS
LEDE_WORDS: Final = 24
LEDE_PERM: Final = 32
LEDE_BANDS: Final = 8
LEDE_ROWS: Final = 4
_FORMAT: Final = 1  # version of the keys: part of every key, so a new one never meets old

# --- text --------------------------------------------------------------------------------

_UNIFY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_SEGMENT = re.compile(r"\n+|(?<=[.!?…])\s+")
_WORDPRESS = re.compile(r"\bthe post\b.{0,400}?\bappeared first on\b[^\n.]*\.?", re.S)
# Phrases that mark a piece of text as page furniture rather than the story. A short
# segment (a line or sentence) holding one is dropped whole; in a long one only the
# phrase goes.
_BOILERPLATE = re.compile(
    r"""
    share\ (?:this|the)\ (?:article|story|post|page)|share\ on\ \w+|click\ to\ share
    | subscribe(?:\ to)?|sign\ up\ (?:for|to)|newsletter|follow\ us
    | source\ link|original\ source|source:|read\ (?:more|the\ full)|continue\ reading
    | click\ here|related\ (?:articles|stories|posts|news)|more\ from|see\ also
    | (?:\d+\ )?comments?\b|leave\ a\ (?:comment|reply)|post\ a\ comment|comment\ policy
    | log\ in\ to|you\ must\ be\ logged|all\ rights\ reserved|copyright|©|\(c\)\ \d{4}
    | advertisement|sponsored|cookies?\ policy|privacy\ policy|terms\ of\ (?:use|service)
    | photo:|image:|getty\ images|file\ photo|watch\ the\ video|listen\ to\ this
    | подпис\w*|поделит\w*|читайте\ также|читать\ далее|источник:|комментари\w*
    | все\ права\ защищены|реклама|падпіс\w*|чытайце\ таксама|крыніца:|підпис\w*
    | читайте\ також|джерело:
    """,
    re.VERBOSE,
)
_SHORT_SEGMENT = 25  # words
_SOCIAL = frozenset(
    [
        "facebook",
        "twitter",
        "x",
        "telegram",
        "whatsapp",
        "email",
        "e-mail",
        "linkedin",
        "reddit",
        "vk",
        "viber",
        "pinterest",
        "print",
        "copy",
        "link",
        "messenger",
        "threads",
        "bluesky",
        "mastodon",
    ]
)


def _fold(text: str) -> str:
    """NFKC, case-folded, without format characters (soft hyphens, zero-width joiners)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_UNIFY)
    if text.isascii():
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _segment_words(segment: str) -> list[str]:
    """The words of one segment, or none if it is page furniture."""
    words = _WORD.findall(segment)
    if _BOILERPLATE.search(segment):
        if len(words) <= _SHORT_SEGMENT:
            return []
        words = _WORD.findall(_BOILERPLATE.sub(" ", segment))
    if words and sum(w in _SOCIAL for w in words) * 2 >= len(words):
        return []  # a row of share buttons
    return words


def tokens(text: str) -> list[str]:
    """The words of ``text`` that count for similarity: folded, boilerplate and links
    removed, one-letter words (the s of "Lukashenko's") dropped."""
    folded = _URL.sub(" ", _WORDPRESS.sub(" ", _fold(text)))
    words: list[str] = []
    for segment in _SEGMENT.split(folded):
        words += (w for w in _segment_words(segment) if len(w) > 1 or w.isdigit())
    return words


def _body(article: Article) -> str:
    """The longer of summary and content: a teaser is usually part of the full text."""
    return article.content if len(article.content) >= len(article.summary) else article.summary


# --- features ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """What similarity is computed from."""

    words: tuple[str, ...]  # the body's words, boilerplate removed
    shingles: frozenset[str]  # runs of SHINGLE words
    title: frozenset[str]  # the title's words


def _shingles(words: Sequence[str], size: int = SHINGLE) -> frozenset[str]:
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


@lru_cache(maxsize=256)
def _text(title: str, body: str) -> Text:
    words = tuple(tokens(body))
    return Text(words, _shingles(words), frozenset(tokens(title)))


def text_of(article: Article) -> Text:
    """The features of ``article`` (cached: one new article meets several candidates)."""
    return _text(article.title, _body(article))


# --- LSH keys ----------------------------------------------------------------------------


@cache
def _permutations(num_perm: int) -> Any:
    """MinHash permutations, made once (datasketch would redo them for every sketch)."""
    from datasketch import MinHash

    return MinHash(num_perm, seed=1, scheme="affine32").permutations


def _minhash(shingles: frozenset[str], num_perm: int) -> npt.NDArray[np.uint32]:
    from datasketch import MinHash

    mh = MinHash(num_perm, seed=1, scheme="affine32", permutations=_permutations(num_perm))
    mh.update_batch([s.encode() for s in sorted(shingles)])
    values: npt.NDArray[np.uint32] = mh.hashvalues
    return values


def _band_keys(kind: int, values: npt.NDArray[np.uint32], bands: int, rows: int) -> list[int]:
    """One key per band: a signed 64-bit hash of the format, the kind, the band, its rows."""
    keys = []
    for band in range(bands):
        head = bytes((_FORMAT, kind, band))
        digest = hashlib.blake2b(head + values[band * rows : (band + 1) * rows].tobytes())
        keys.append(int.from_bytes(digest.digest()[:8], "little", signed=True))
    return keys


def signature(article: Article) -> StorySignature:
    """The LSH keys of ``article``: of its whole body, and of its first words (so that a
    teaser finds the full text it was cut from). None when the text is too short."""
    text = text_of(article)
    if len(text.shingles) < MIN_SHINGLES:
        return StorySignature(keys=())
    body = _band_keys(1, _minhash(_shingles(text.words, KEY_SHINGLE), NUM_PERM), BANDS, ROWS)
    lede = _shingles(text.words[:LEDE_WORDS], KEY_SHINGLE)
    start = _band_keys(2, _minhash(lede, LEDE_PERM), LEDE_BANDS, LEDE_ROWS)
    return StorySignature(keys=tuple(body + start))


# --- the rule ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Similarity:
    """How alike two texts are."""

    jaccard: float  # Jaccard similarity of the bodies' shingle sets
    lede: float  # share of the shorter body's shingles found at the start of the longer
    title: float  # Jaccard similarity of the titles' word sets
    shorter: int  # shingles in the shorter body


def _share(part: frozenset[str], whole: frozenset[str]) -> float:
    return len(part & whole) / len(part) if part else 0.0


def compare(a: Text, b: Text) -> Similarity:
    """How alike ``a`` and ``b`` are."""
    short, long = (a, b) if len(a.words) <= len(b.words) else (b, a)
    union = len(a.shingles | b.shingles)
    jaccard = len(a.shingles & b.shingles) / union if union else 0.0
    reach = len(short.words) + max(LEDE_SLACK, len(short.words) // 4)
    lede = _share(short.shingles, _shingles(long.words[:reach]))
    titles = len(a.title | b.title)
    title = len(a.title & b.title) / titles if titles else 0.0
    return Similarity(jaccard, lede, title, min(len(a.shingles), len(b.shingles)))


def judge(sim: Similarity, threshold: float = DEFAULT_THRESHOLD) -> float:
    """A score above zero when ``sim`` says one story (higher is closer), else zero."""
    if sim.shorter < MIN_SHINGLES:
        return 0.0
    if sim.jaccard >= threshold or sim.lede >= max(LEDE_CONTAINMENT, threshold):
        return max(sim.jaccard, sim.lede)
    return 0.0


def same_story(new: Article, old: Article, *, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Whether ``new`` and ``old`` are one story: a score above zero (higher is closer), or
    zero."""
    return judge(compare(text_of(new), text_of(old)), threshold)
