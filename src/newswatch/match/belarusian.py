"""A light Belarusian stemmer: strips common inflectional endings.

No maintained stemmer or morphological dictionary for Belarusian exists as a Python
package (Snowball has none; pymorphy3 ships Russian and Ukrainian only), so this is the
small hand-written exception: the regular noun, adjective and verb endings of the
standard orthography, longest first, keeping a stem of at least three letters. It joins
Беларусь ~ Беларусі ~ Беларуссю, Лукашэнка ~ Лукашэнкі ~ Лукашэнкам, Кіеў ~ Кіева,
Ціханоўская ~ Ціханоўскай ~ Ціханоўскую; it does not undo consonant alternations
(Ліда ~ Лідзе), and reads final -оў/-еў as the в of the other cases, so genitive plurals
in -оў (гадоў) stay apart from their singulars. A word-initial ў (у after a vowel: пра
ўцечку) is read as у. Input is folded text (ё is already е).
"""

from __future__ import annotations

from typing import Final

__all__ = ["stem"]

_NOUN_ENDINGS: Final = "амі ямі ам ям ом ем ой ей ай яй аў яў ах ях а я ы і у ю е о ь"
_ADJECTIVE_ENDINGS: Final = "ага яга аму яму ымі імі ая яя ое ае ую юю ыя ія ых іх ым ім"
_VERB_ENDINGS: Final = (
    "уць юць аць яць іць ыць ець цца ецца ацца ыцца іцца ць чы еш еце іш іце ла ло лі ся"
)
_ENDINGS: Final = tuple(
    sorted(
        set(f"{_NOUN_ENDINGS} {_ADJECTIVE_ENDINGS} {_VERB_ENDINGS}".split()),
        key=lambda e: (-len(e), e),
    )
)
_VOWELS: Final = set("аеёіоуыэюя")
_MIN_STEM: Final = 3


def stem(word: str) -> str:
    """The stem of one folded Belarusian word."""
    if word.startswith("ў"):
        word = "у" + word[1:]  # у is written ў after a vowel: уцечка ~ пра ўцечку
    if len(word) <= _MIN_STEM:
        return word
    if word.endswith(("оў", "еў")):
        return word[:-1] + "в"  # Кіеў ~ Кіева, Львоў ~ Львова: ў alternates with в
    if word.endswith("ю") and word[-2] == word[-3] and word[-2] not in _VOWELS:
        return word[:-2]  # instrumental with a doubled consonant: Беларуссю -> беларус
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word
