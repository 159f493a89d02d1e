"""Near-duplicate stories (SPEC §4): a text signature per article, and the rule that says
whether two signatures are one story.

Pure: no I/O, no clock. ``signature`` turns an article into a ``StorySignature`` — LSH keys
(two articles that share one are candidates) and a fingerprint (the hashed features the
rule needs, so that a candidate is judged without reading or re-tokenizing its text); the
store keeps both and looks candidates up by key inside its write transaction, then asks
``same`` about the new fingerprint and each candidate's. The pipeline hands this module's
functions to the store.

The technique is MinHash over word shingles (rensa, compiled), banded into LSH keys:

- text: the title and the longer of summary and content, NFKC case-folded, with
  boilerplate ("share this article", "subscribe", "source link", "the post … appeared first
  on …", comment and copyright footers) removed before shingling;
- similarity: the Jaccard similarity of the two bodies' shingle sets, and their
  containment (how much of the shorter text is in the longer one), which is what survives
  truncation and boilerplate wrapped around a copy; both computed exactly on the
  fingerprints (32-bit hashes of the shingles), not estimated from the MinHash;
- precision first: too little text (a title alone) never joins anything, and the bar is set
  so that distinct stories sharing names and places stay apart (see README, "Stories").
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, NamedTuple

from newswatch.cluster.text import _text, anchors, tokens
from newswatch.models import Article, StorySignature

__all__ = [
    "DEFAULT_THRESHOLD",
    "KEY_FORMAT",
    "MIN_THRESHOLD",
    "NOT_SAME",
    "Fingerprint",
    "Similarity",
    "Verdict",
    "anchors",
    "compare",
    "features",
    "fingerprint",
    "judge",
    "same",
    "same_story",
    "signature",
    "story_keys",
    "tokens",
    "verdict",
    "why",
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
# The anchor signal (a spun copy keeps its names, numbers and quotes, in order): pairs of
# successive anchors, 32 MinHash values in 16 bands of 2 (a pair of texts with half their
# anchor pairs in common is a candidate 99 times in 100), and the bar of the rule.
ANCHOR_RUN: Final = 2
ANCHOR_PERM: Final = 32
ANCHOR_BANDS: Final = 16
ANCHOR_ROWS: Final = 2
MIN_ANCHOR_PAIRS: Final = 5  # fewer are too few to tell two stories apart
ANCHOR_BALANCE: Final = 0.7  # a rewrite is about as long as its original; a quoted part is not
ANCHOR_MIN: Final = 0.5  # anchor pairs in common (Jaccard): spun copies 0.67-1.0
VOCABULARY_MIN: Final = 0.35  # distinct words in common (Jaccard): spun copies 0.45-0.7
# Version of the keys: part of every key, so a key of another version never meets one of
# this. Version 1 was datasketch's MinHash, version 2 is rensa's (KEY_FORMAT, exported: the
# store re-keys the stories in the window when it changes).
_FORMAT: Final = 2
KEY_FORMAT: Final = _FORMAT
_MIX: Final = 0x9E3779B97F4A7C15  # odd 64-bit constants of the band-key mix
_MIX2: Final = 0xBF58476D1CE4E5B9
_MIX3: Final = 0x94D049BB133111EB
_MASK: Final = (1 << 64) - 1

# --- text: newswatch.cluster.text ----------------------------------------------------


def _body(article: Article) -> str:
    """The longer of summary and content: a teaser is usually part of the full text."""
    return article.content if len(article.content) >= len(article.summary) else article.summary


# --- features ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What similarity is computed from — the body's word pairs, its vocabulary, the pairs
    of its successive anchors, and the title's words — as stable 32-bit hashes (CRC-32 of
    the UTF-8 text), made once per article.

    ``to_bytes`` is the compact form the store keeps (4 bytes per word of the body, and per
    distinct word and anchor pair); the hashes make the comparison exact but for a
    collision, about one pair in four billion.
    """

    words: int  # words in the body, boilerplate removed
    shingles: tuple[int, ...]  # hashes of the body's runs of SHINGLE words, in text order
    title: frozenset[int]  # hashes of the title's words
    distinct: frozenset[int]  # the shingle hashes as a set
    vocabulary: frozenset[int] = frozenset()  # hashes of the body's distinct words
    anchors: frozenset[int] = frozenset()  # hashes of pairs of successive anchors

    @classmethod
    def make(
        cls,
        words: int,
        shingles: Sequence[int],
        title: Iterable[int],
        vocabulary: Iterable[int] = (),
        anchors: Iterable[int] = (),
    ) -> Fingerprint:
        return cls(
            words,
            tuple(shingles),
            frozenset(title),
            frozenset(shingles),
            frozenset(vocabulary),
            frozenset(anchors),
        )

    def to_bytes(self) -> bytes:
        """Format byte, five counts, then the title, shingle, vocabulary and anchor-pair
        hashes (little-endian)."""
        parts = (sorted(self.title), self.shingles, sorted(self.vocabulary), sorted(self.anchors))
        head = _FP_HEAD.pack(_FP_FORMAT, self.words, *(len(p) for p in parts))
        values = [v for part in parts for v in part]
        return head + struct.pack(f"<{len(values)}I", *values)

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint | None:
        """The inverse of ``to_bytes`` (and of format 1's: without vocabulary and
        anchors, so a copy of a story stored before still meets it by its shingles);
        None for data of another format or length."""
        head = {_FP_FORMAT: _FP_HEAD, 1: _FP1_HEAD}.get(data[0]) if data else None
        if head is None or len(data) < head.size:
            return None
        _, words, *counts = head.unpack_from(data)
        if len(data) != head.size + 4 * sum(counts):
            return None
        values = struct.unpack_from(f"<{sum(counts)}I", data, head.size)
        parts, at = [], 0
        for n in counts:
            parts.append(values[at : at + n])
            at += n
        title, shingles, *rest = parts
        return cls.make(words, shingles, title, *rest)


_FP_FORMAT: Final = 2  # first byte of a stored fingerprint
_FP_HEAD: Final = struct.Struct("<BIIIII")  # format, words, then the count of each part
_FP1_HEAD: Final = struct.Struct("<BIII")  # format 1: title and shingle hashes only


def _hashes(texts: Collection[str]) -> list[int]:
    """``_hash`` of each text, in order. (``encode()`` without arguments takes CPython's
    fast path; the same bytes unless a text holds a lone surrogate, which it refuses.)"""
    crc32 = zlib.crc32
    try:
        return [crc32(text.encode()) for text in texts]
    except UnicodeEncodeError:
        return [crc32(text.encode("utf-8", "surrogatepass")) for text in texts]


def _runs(words: Sequence[str], size: int) -> list[str]:
    """The runs of ``size`` words, in text order."""
    return list(map(" ".join, zip(*(words[i:] for i in range(size)), strict=False)))


def _shingles(words: Sequence[str], size: int = SHINGLE) -> frozenset[str]:
    return frozenset(_runs(words, size))


def _make_features(title: str, body: str) -> tuple[tuple[str, ...], tuple[str, ...], Fingerprint]:
    """The body's words and anchor pairs, and the fingerprint made of them: one pass."""
    words, marks = _text(body)
    pairs = tuple(_runs(marks, ANCHOR_RUN))
    found = Fingerprint.make(
        len(words),
        _hashes(_runs(words, SHINGLE)),
        _hashes(set(tokens(title))),
        _hashes(set(words)),
        _hashes(set(pairs)),
    )
    return tuple(words), pairs, found


# Cached for comparing one article with many (replay, same_story); signing does not keep
# what it made (a worker signs each article once, and 256 texts would be ~15 MB).
_features = lru_cache(maxsize=256)(_make_features)


def features(article: Article) -> Fingerprint:
    """The features of ``article`` (cached: one article may meet several others)."""
    return _features(article.title, _body(article))[2]


def fingerprint(article: Article) -> bytes:
    """The stored form of ``article``'s features (what ``signature`` carries), for an
    article indexed without one."""
    return features(article).to_bytes()


# --- LSH keys ----------------------------------------------------------------------------


def _minhash(shingles: frozenset[str], num_perm: int) -> list[int]:
    """The MinHash values of ``shingles`` (rensa's, seed 1), in permutation order; each is
    a minimum, so the order the shingles come in (a set's, per process) does not matter."""
    from rensa import RMinHash

    mh = RMinHash(num_perm, 1)
    mh.update(list(shingles))
    values: list[int] = mh.digest()
    return values


def _band_keys(kind: int, values: Sequence[int], bands: int, rows: int) -> list[int]:
    """One key per band: a signed 64-bit mix of the format, the kind, the band and its
    rows (each a 32-bit MinHash value), the same on every machine and in every process."""
    keys = []
    for band, h in enumerate(_band_starts(kind, bands)):
        for value in values[band * rows : (band + 1) * rows]:
            h = (h * _MIX2 + value) & _MASK  # a polynomial in the rows
        h = ((h ^ (h >> 31)) * _MIX3) & _MASK  # then mixed, so every bit counts
        h ^= h >> 29
        keys.append(h - (1 << 64) if h >= 1 << 63 else h)
    return keys


@lru_cache(maxsize=8)
def _band_starts(kind: int, bands: int) -> tuple[int, ...]:
    """Where each band's mix starts: the format, the kind and the band, mixed."""
    return tuple(((_FORMAT << 16 | kind << 8 | band) * _MIX) & _MASK for band in range(bands))


def signatures(articles: Iterable[Article]) -> dict[str, StorySignature]:
    """Each article's signature by entry key: one worker job for a whole poll."""
    return {article.entry_key: signature(article) for article in articles}


def story_keys(articles: Sequence[Article]) -> list[tuple[int, ...]]:
    """The LSH keys of each article, in order (keying stored articles again)."""
    return [signature(article).keys for article in articles]


def signature(article: Article) -> StorySignature:
    """The LSH keys of ``article`` — of its whole body, of its first words (so that a
    teaser finds the full text it was cut from) and of its anchor pairs (so that a spun
    copy finds its original) — and its fingerprint. Neither when the text is too short to
    be judged."""
    words, pairs, found = _make_features(article.title, _body(article))
    if len(found.distinct) < MIN_SHINGLES:
        return StorySignature(keys=())
    body = _band_keys(1, _minhash(_shingles(words, KEY_SHINGLE), NUM_PERM), BANDS, ROWS)
    lede = _shingles(words[:LEDE_WORDS], KEY_SHINGLE)
    start = _band_keys(2, _minhash(lede, LEDE_PERM), LEDE_BANDS, LEDE_ROWS)
    marks: list[int] = []
    if len(found.anchors) >= MIN_ANCHOR_PAIRS:
        values = _minhash(frozenset(pairs), ANCHOR_PERM)
        marks = _band_keys(3, values, ANCHOR_BANDS, ANCHOR_ROWS)
    return StorySignature(keys=tuple(body + start + marks), fingerprint=found.to_bytes())


# --- the rule ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Similarity:
    """How alike two texts are."""

    jaccard: float  # Jaccard similarity of the bodies' shingle sets
    lede: float  # share of the shorter body's shingles found at the start of the longer
    title: float  # Jaccard similarity of the titles' word sets
    shorter: int  # shingles in the shorter body
    anchors: float = 0.0  # Jaccard similarity of the sets of successive anchor pairs
    vocabulary: float = 0.0  # Jaccard similarity of the bodies' sets of distinct words
    fewer_anchors: int = 0  # anchor pairs of the text that has fewer
    balance: float = 0.0  # words of the shorter body over words of the longer


class Verdict(NamedTuple):
    """Whether two texts are one story, by which signal, and how sure: ``signal`` is
    ``shingles`` (the word pairs), ``lede`` (a teaser of the other) or ``anchors`` (the
    same names, numbers and quotes in the same order over mostly the same words: a spun
    or lightly paraphrased copy); empty, with a score of zero, when they are not."""

    signal: str
    score: float


NOT_SAME: Final = Verdict("", 0.0)


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    common = len(a & b)
    union = len(a) + len(b) - common
    return common / union if union else 0.0


def compare(a: Fingerprint, b: Fingerprint) -> Similarity:
    """How alike ``a`` and ``b`` are."""
    short, long = (a, b) if a.words <= b.words else (b, a)
    reach = short.words + max(LEDE_SLACK, short.words // 4)  # words of the longer text
    start = long.shingles[: reach - SHINGLE + 1]  # the shingles of those words
    lede = len(short.distinct.intersection(start)) / len(short.distinct) if short.distinct else 0.0
    return Similarity(
        _jaccard(a.distinct, b.distinct),
        lede,
        _jaccard(a.title, b.title),
        min(len(a.distinct), len(b.distinct)),
        _jaccard(a.anchors, b.anchors),
        _jaccard(a.vocabulary, b.vocabulary),
        min(len(a.anchors), len(b.anchors)),
        short.words / long.words if long.words else 0.0,
    )


def verdict(sim: Similarity, threshold: float = DEFAULT_THRESHOLD) -> Verdict:
    """Whether ``sim`` says one story, by which signal, with what score (higher is
    closer). ``threshold`` is the bar of the shingle signal; the anchor signal asks for
    ``ANCHOR_MIN`` of the anchor pairs and ``VOCABULARY_MIN`` of the words (or
    ``threshold`` of each, if higher), which two stories about the same people on the
    same day do not reach: their numbers, quotes and the names between them differ."""
    if sim.shorter < MIN_SHINGLES:
        return NOT_SAME
    if sim.jaccard >= threshold or sim.lede >= max(LEDE_CONTAINMENT, threshold):
        signal = "shingles" if sim.jaccard >= threshold else "lede"
        return Verdict(signal, max(sim.jaccard, sim.lede))
    if (
        sim.fewer_anchors >= MIN_ANCHOR_PAIRS
        and sim.balance >= ANCHOR_BALANCE
        and sim.anchors >= max(ANCHOR_MIN, threshold)
        and sim.vocabulary >= max(VOCABULARY_MIN, threshold)
    ):
        return Verdict("anchors", (sim.anchors + sim.vocabulary) / 2)
    return NOT_SAME


def judge(sim: Similarity, threshold: float = DEFAULT_THRESHOLD) -> float:
    """A score above zero when ``sim`` says one story (higher is closer), else zero."""
    return verdict(sim, threshold).score


@lru_cache(maxsize=64)
def _decoded(data: bytes) -> Fingerprint | None:
    """Cached: the new article's fingerprint meets every candidate of its lookup."""
    return Fingerprint.from_bytes(data)


def same(new: bytes, old: bytes, *, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Whether the articles of two stored fingerprints (``StorySignature.fingerprint``) are
    one story: a score above zero (higher is closer), or zero. A fingerprint this version
    cannot read is never the same story as anything."""
    return why(new, old, threshold=threshold).score


def why(new: bytes, old: bytes, *, threshold: float = DEFAULT_THRESHOLD) -> Verdict:
    """``same``, with the signal that decided it (what the store records as the reason a
    copy joined its story)."""
    a, b = _decoded(new), Fingerprint.from_bytes(old)
    if a is None or b is None:
        return NOT_SAME
    return verdict(compare(a, b), threshold)


def same_story(new: Article, old: Article, *, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Whether ``new`` and ``old`` are one story: a score above zero (higher is closer), or
    zero."""
    return judge(compare(features(new), features(old)), threshold)
