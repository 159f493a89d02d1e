"""Inflection: which words are forms of the same word, per language.

Each language turns a folded word into *keys*; two words share a key when the language
takes them for forms of one word. Keys come from well-kept libraries:

- Snowball stemmers (PyStemmer) for English and the 30-odd languages Snowball covers;
- pymorphy3 lemmas (OpenCorpora / LanguageTool dictionaries, with a suffix-based guesser
  for unknown words) for Russian, together with the Russian Snowball stem (it catches
  surnames declined the Belarusian way: Лукашенко ~ Лукашенку), and for Ukrainian;
- Belarusian has neither: :mod:`newswatch.match.belarusian` strips common endings.

Keys are cached per language (the vocabulary of news repeats): a new word costs up to
~0.1 ms once, a known one a dictionary lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

import Stemmer

from newswatch.match.belarusian import stem as belarusian_stem
from newswatch.match.normalize import fold

__all__ = ["LANGUAGES", "beginnings", "keys", "language_names"]

# ISO 639-1 code -> Snowball algorithm (what PyStemmer calls it).
_SNOWBALL: Final = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
_MORPHOLOGY: Final = {"ru", "uk"}  # pymorphy3 dictionaries shipped as dependencies

LANGUAGES: Final = frozenset({*_SNOWBALL, "uk", "be"})
"""Every code that ``languages:`` accepts."""

_CACHE_LIMIT: Final = 200_000
_lock = threading.Lock()
_analyzers: dict[str, Callable[[str], tuple[str, ...]]] = {}
_caches: dict[str, dict[str, tuple[str, ...]]] = {}


def beginnings(language: str, word: str) -> tuple[str, ...]:
    """How the inflected forms of ``word`` may begin (their first two letters)."""
    if language == "be" and word[:1] in ("у", "ў"):
        return ("у" + word[1:2], "ў" + word[1:2])  # у is written ў after a vowel
    return (word[:2],)


def language_names() -> list[str]:
    """The supported codes, sorted."""
    return sorted(LANGUAGES)


def keys(language: str, word: str) -> tuple[str, ...]:
    """The keys of the folded ``word`` in ``language`` (cached)."""
    cache = _caches.get(language)
    if cache is None:
        _analyzer(language)
        cache = _caches[language]
    found = cache.get(word)
    if found is None:
        found = _analyzers[language](word)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[word] = found
    return found


def _analyzer(language: str) -> Callable[[str], tuple[str, ...]]:
    with _lock:
        analyzer = _analyzers.get(language)
        if analyzer is None:
            analyzer = _build(language)
            _analyzers[language] = analyzer
            _caches[language] = {}
        return analyzer


def _build(language: str) -> Callable[[str], tuple[str, ...]]:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if language == "be":
        return lambda word: _usable(("s" + belarusian_stem(word),))
    stemmer = Stemmer.Stemmer(_SNOWBALL[language]) if language in _SNOWBALL else None
    morph = _morph(language) if language in _MORPHOLOGY else None

    def analyze(word: str) -> tuple[str, ...]:
        found: list[str] = []
        if stemmer is not None:
            found.append("s" + stemmer.stemWord(word))
        if morph is not None:
            found.extend("l" + fold(lemma) for lemma in morph.normal_forms(word))
        return _usable(tuple(dict.fromkeys(found)))

    return analyze


def _usable(found: tuple[str, ...]) -> tuple[str, ...]:
    """Keys of at least two letters (after the one-letter kind marker)."""
    return tuple(key for key in found if len(key) > 2)


def _morph(language: str) -> Any:
    import pymorphy3  # imported on first use: loading a dictionary takes ~0.1 s

    return pymorphy3.MorphAnalyzer(lang=language)
