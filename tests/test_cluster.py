"""The cluster module: text normalization without boilerplate, LSH keys, and the rule."""

from __future__ import annotations

import os
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newswatch import cluster
from newswatch.models import Article

BODY = (
    "A magnitude 6.1 earthquake struck Malatya province in eastern Turkey early on Saturday, "
    "killing at least four people and injuring more than 90, the disaster agency AFAD said.\n"
    "The quake hit at 3:42 a.m. at a depth of ten kilometres near the town of Pütürge, and was "
    "felt as far away as Diyarbakır and Adana. Twenty-three buildings collapsed, most of them "
    "already damaged in the 2023 earthquakes, and rescuers were searching the rubble of a "
    "three-storey house for a family of five."
)


def article(
    text: str, title: str = "Earthquake hits eastern Turkey", field: str = "content"
) -> Article:
    return Article(
        feed_url="https://a.example/rss",
        entry_key=str(hash(text)),
        link=None,
        link_key=None,
        title=title,
        **{field: text},
    )


@pytest.mark.parametrize(
    "furniture",
    [
        "Share this article\nFacebook Twitter Telegram Email",
        "Subscribe to our newsletter for the news that matters.",
        "Source link",
        "3 comments. Leave a reply. You must be logged in to post a comment.",
        "The post Earthquake hits eastern Turkey appeared first on World News Daily.",
        "Подписывайтесь на наш Telegram-канал.\nИсточник: БелТА",
        "© 2026 Baltic Wire. All rights reserved.",
    ],
)
def test_boilerplate_is_not_part_of_the_text(furniture: str) -> None:
    """Page furniture around a story leaves its words unchanged."""
    assert cluster.tokens(f"{furniture}\n{BODY}\n{furniture}") == cluster.tokens(BODY)


def test_long_sentence_keeps_its_words_but_not_the_phrase() -> None:
    """In a long segment only the boilerplate phrase goes, not the story around it."""
    words = cluster.tokens(BODY.replace("killing at", "subscribe to read, killing at"))
    assert "killing" in words and "subscribe" not in words


def test_text_is_folded_and_links_removed() -> None:
    """Case, NFKC width forms, soft hyphens and URLs do not change the words."""
    assert cluster.tokens("ＬＵＫＡ\u00adSHENKO said https://x.example/a?b=1 ЛУКАШЕНКО") == [
        "lukashenko",
        "said",
        "лукашенко",
    ]


def test_signature_is_deterministic() -> None:
    """The same text always has the same keys (they are stored and compared across runs)."""
    assert cluster.signature(article(BODY)) == cluster.signature(article(BODY))
    keys = cluster.signature(article(BODY)).keys
    assert len(keys) == cluster.BANDS + cluster.LEDE_BANDS + cluster.ANCHOR_BANDS


def test_keys_are_the_same_in_every_process_whatever_its_hash_seed() -> None:
    """Keys and fingerprints are stored and compared across processes, whose string hash
    seeds (and so the iteration order of their sets of shingles) differ."""
    import subprocess
    import sys

    code = (
        "import sys; from newswatch import cluster; from newswatch.models import Article\n"
        "a = Article(feed_url='u', entry_key='k', link=None, link_key=None, title='t',"
        " content=sys.stdin.read())\n"
        "s = cluster.signature(a); print(s.keys, s.fingerprint.hex())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=BODY,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    here = Article(feed_url="u", entry_key="k", link=None, link_key=None, title="t", content=BODY)
    signature = cluster.signature(here)
    assert outputs == {f"{signature.keys} {signature.fingerprint.hex()}\n"}


def test_too_short_text_has_no_keys() -> None:
    """A title and a line are too little to judge: no keys, never a candidate."""
    assert cluster.signature(article("Quake in Turkey, four dead.")).keys == ()


def test_copy_with_boilerplate_and_new_title_is_same_story() -> None:
    """A retitled copy wrapped in furniture is the same story."""
    wrapped = article(f"Breaking news\n{BODY}\nShare this article\nSource link", title="Four dead")
    assert cluster.same_story(wrapped, article(BODY)) > 0


def test_teaser_matches_the_full_text_it_was_cut_from() -> None:
    """A first paragraph alone (in summary) is the same story as the full text..."""
    teaser = article(BODY.split("\n")[0] + " Read more…", field="summary")
    assert cluster.same_story(teaser, article(BODY)) > 0
    assert set(cluster.signature(teaser).keys) & set(cluster.signature(article(BODY)).keys)


def test_quoted_paragraph_in_the_middle_is_not_the_same_story() -> None:
    """...but the same paragraph quoted inside a different, longer text is not."""
    other = (
        "A magnitude 5.4 aftershock shook Malatya province on Sunday afternoon, a day after "
        "the main quake, the disaster agency said. No deaths were reported, and two more "
        "damaged buildings collapsed in Pütürge, both of them already empty.\n"
    )
    paragraph = BODY.split("\n")[0]
    assert cluster.same_story(article(paragraph), article(other + paragraph)) == 0


def test_swapped_words_are_still_the_same_story() -> None:
    """A rewriting tool's synonyms ("struck" -> "hit", ...) do not hide a copy."""
    swaps = {
        "struck": "hit",
        "killing": "leaving dead",
        "collapsed": "fell",
        "searching": "combing",
    }
    spun = BODY
    for old, new in swaps.items():
        spun = spun.replace(old, new)
    assert cluster.same_story(article(spun), article(BODY)) > 0


def test_threshold_decides_between_copies_and_rewrites() -> None:
    """The same pair is one story at a low threshold and two at the top one."""
    edited = article(
        BODY.replace("early on Saturday", "on Saturday morning").replace("3:42", "3.42")
    )
    assert cluster.same_story(edited, article(BODY), threshold=0.5) > 0
    assert cluster.same_story(edited, article(BODY), threshold=1.0) == 0


def test_fingerprint_is_stable_and_round_trips() -> None:
    """The stored fingerprint is CRC-32 of each word pair (never Python's per-process
    hash), in text order, and reads back to the features it was made from."""
    stored = cluster.signature(article(BODY)).fingerprint
    features = cluster.Fingerprint.from_bytes(stored)
    assert features == cluster.features(article(BODY))
    assert features.shingles[0] == zlib.crc32(b"magnitude 6")
    assert features.words == len(cluster.tokens(BODY))


def test_a_lone_surrogate_is_hashed_as_its_surrogatepass_bytes() -> None:
    """Hashes are CRC-32 of UTF-8; a text with a lone surrogate (the tokenizer's words
    never hold one, but a hash must not fail on it) hashes as its surrogatepass bytes."""
    texts = ["magnitude 6", "лукашенко заявил", "a\ud800b"]
    expected = [zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in texts]
    assert cluster._hashes(texts) == expected
    assert cluster._hashes(texts[:2]) == expected[:2]
    assert cluster.signature(article("Lukashenko met the \ud800envoy " + BODY)).keys


def test_stored_fingerprints_judge_as_the_articles_do() -> None:
    """``same`` on two signatures' fingerprints gives the score ``same_story`` gives."""
    body = article(BODY)
    pairs = [
        (article(f"Breaking news\n{BODY}\nShare this article", title="Four dead"), body),
        (article(BODY.split("\n")[0] + " Read more…", field="summary"), body),
        (article(BODY.split("\n")[1]), body),
    ]
    for new, old in pairs:
        stored = cluster.same(
            cluster.signature(new).fingerprint, cluster.signature(old).fingerprint
        )
        assert stored == cluster.same_story(new, old)


def test_unreadable_fingerprint_is_never_the_same_story() -> None:
    """A fingerprint of another format (or none) joins nothing."""
    good = cluster.signature(article(BODY)).fingerprint
    assert cluster.same(good, good) == 1.0
    assert cluster.same(b"\x09" + good[1:], good) == 0.0
    assert cluster.same(good, b"") == 0.0
    assert cluster.signature(article("Quake in Turkey, four dead.")).fingerprint == b""


# One phrase per branch of cluster.text._BOILERPLATE, in the folded form the pattern meets.
FURNITURE = [
    "share this article", "share the story", "share on telegram", "click to share",
    "subscribe", "subscribe to", "sign up for", "sign up to", "newsletter", "follow us",
    "source link", "original source", "source: reuters", "read more", "read the full",
    "continue reading", "click here", "related articles", "related news", "more from",
    "see also", "12 comments", "comment", "leave a comment", "leave a reply",
    "post a comment", "comment policy", "log in to", "you must be logged",
    "all rights reserved", "copyright", "© 2026", "(c) 2026", "advertisement",
    "sponsored", "cookie policy", "cookies policy", "privacy policy", "terms of use",
    "terms of service", "photo: ap", "image: afp", "getty images", "file photo",
    "watch the video", "listen to this", "подписывайтесь", "поделиться",
    "читайте также", "читать далее", "источник: тасс", "комментарии",
    "все права защищены", "реклама", "падпісвайцеся", "чытайце таксама", "крыніца:",
    "підписуйтесь", "читайте також", "джерело:",
]  # fmt: skip


@pytest.mark.parametrize("phrase", FURNITURE)
def test_every_boilerplate_phrase_passes_the_literal_prefilter(phrase: str) -> None:
    """The fast check (a literal every match contains) never hides page furniture that
    the pattern would find: each branch's phrase is found by both, inside other text too."""
    text = f"the minister said on monday {phrase} that the talks would go on"
    assert cluster.text._BOILERPLATE.search(text), phrase  # the list covers the pattern
    assert cluster.text._may_be_furniture(text)


@given(st.text(alphabet=st.sampled_from("abcilnoprstuvw :©()0123456789"), max_size=60))
def test_prefilter_is_never_stricter_than_the_pattern(text: str) -> None:
    """Wherever the pattern matches, the prefilter says 'maybe'."""
    if cluster.text._BOILERPLATE.search(text):
        assert cluster.text._may_be_furniture(text)


def test_clean_text_skips_the_pattern_and_keeps_its_words() -> None:
    """A body without furniture keeps every word (the fast path changes no result)."""
    body = "Lukashenko met the delegation in Minsk. The talks lasted three hours."
    assert not cluster.text._may_be_furniture(cluster.text._fold(body))
    assert cluster.tokens(body) == [
        "lukashenko", "met", "the", "delegation", "in", "minsk", "the", "talks",
        "lasted", "three", "hours",
    ]  # fmt: skip


@given(st.text(alphabet=st.sampled_from([*"ab .!?…\n\t\r", "\u2028", "\xa0"])))
def test_segments_cut_where_the_split_pattern_does(text: str) -> None:
    """The fast cut into lines and sentences gives exactly the look-behind split."""
    assert cluster.text._segments(text) == cluster.text._SEGMENT.split(text)


def test_links_and_wordpress_footers_are_still_removed() -> None:
    """The quick checks that skip the link and footer patterns still let them run."""
    body = (
        "Minsk said on Monday the talks would go on. See https://example.org/x?y=1 and "
        "WWW.Example.org now. The post Talks go on appeared first on Minsk Daily."
    )
    words = cluster.tokens(body)
    assert "example" not in words and "daily" not in words and "talks" in words


@given(
    st.lists(st.sampled_from(["a", "B", "Minsk", "12", "x_y", " ", ", ", "-", "share", "email"]))
)
def test_plain_ascii_segments_give_what_the_general_path_gives(parts: list[str]) -> None:
    """The one-list path for ASCII text without quotes or furniture: the same words and
    anchors as folding the segment and finding its words twice."""
    text = "".join(parts)
    words: list[str] = []
    anchors: list[str] = []
    cluster.text._plain_segment(text, words, anchors)
    kept = [
        w
        for w in cluster.text._segment_words(cluster.text._fold(text), False)
        if len(w) > 1 or w.isdigit()
    ]
    expected = [a for a in cluster.text._anchors(text) if len(a) > 1 or a.isdigit()] if kept else []
    assert (words, anchors) == (kept, expected)
