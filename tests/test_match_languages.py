"""``languages:``: each word also matches its inflected forms, in real sentences about
Belarus and its president in Russian, Ukrainian, Belarusian and English."""

from __future__ import annotations

import pytest

from newswatch.config import Settings
from newswatch.match import compile_watchlist
from newswatch.match.belarusian import stem
from newswatch.models import Article


def hit_texts(keyword: str, languages: list[str], text: str) -> list[str]:
    """The texts a one-keyword watch hits in ``text`` (empty if it does not match)."""
    settings = Settings(watches=[{"name": "w", "keywords": [keyword], "languages": languages}])
    article = Article(
        feed_url="https://f.example/rss", entry_key="1", link=None, link_key=None, title=text
    )
    return [h.text for m in compile_watchlist(settings).match(article) for h in m.hits]


SENTENCES = [
    # Russian (pymorphy3 lemmas and the Snowball stem)
    (
        "ru",
        "Белоруссия",
        "Президент Белоруссии Александр Лукашенко провёл совещание.",
        "Белоруссии",
    ),
    ("ru", "Белоруссия", "Оппозиция призвала ЕС ввести санкции против Белоруссию.", "Белоруссию"),
    ("ru", "Беларусь", "В Беларуси задержали журналистов независимых изданий.", "Беларуси"),
    ("ru", "Беларусь", "Граница с Беларусью закрыта для грузовиков.", "Беларусью"),
    ("ru", "Лукашенко", "Встреча с Лукашенку не состоялась.", "Лукашенку"),  # be/uk-style
    ("ru", "документ", "Журналисты получили доступ к секретным документам.", "документам"),
    ("ru", "утечка", "После утечки документов в Минске начались обыски.", "утечки"),
    ("ru", "Минск", "Протесты в Минске продолжались до утра.", "Минске"),
    ("ru", "выборы", "Наблюдатели не признали итоги выборов.", "выборов"),
    # Ukrainian (pymorphy3 lemmas)
    ("uk", "Білорусь", "Президент Білорусі Олександр Лукашенко заявив про навчання.", "Білорусі"),
    ("uk", "Білорусь", "Кордон з Білоруссю посилено.", "Білоруссю"),
    ("uk", "Лукашенко", "Заява Лукашенка викликала обурення в Києві.", "Лукашенка"),
    ("uk", "Київ", "Делегація прибула до Києва в понеділок.", "Києва"),
    ("uk", "документ", "Журналісти оприлюднили документи про вибори.", "документи"),
    ("uk", "витік", "Після витоку документів почалося розслідування.", "витоку"),
    # Belarusian (light stemmer)
    (
        "be",
        "Беларусь",
        "Прэзідэнт Беларусі Аляксандр Лукашэнка сустрэўся з міністрамі.",
        "Беларусі",
    ),
    ("be", "Беларусь", "Мяжа з Беларуссю зачыненая.", "Беларуссю"),
    ("be", "Лукашэнка", "Пра гэта паведаміў Лукашэнку яго памочнік.", "Лукашэнку"),
    ("be", "Лукашэнка", "Сустрэча з Лукашэнкам адбылася ў Мінску.", "Лукашэнкам"),
    ("be", "Мінск", "Пратэсты ў Мінску працягваліся ўсю ноч.", "Мінску"),
    ("be", "Кіеў", "Дэлегацыя прыехала з Кіева.", "Кіева"),
    ("be", "дакумент", "Журналісты апублікавалі сотні дакументаў.", "дакументаў"),
    ("be", "Ціханоўская", "Сустрэча са Святланай Ціханоўскай адбылася ў Вільні.", "Ціханоўскай"),
    ("be", "уцечка", "Пасля ўцечкі дакументаў пачаліся ператрусы.", "ўцечкі"),
    # English (Snowball)
    ("en", "leak", "Documents leaked to the press describe the plan.", "leaked"),
    ("en", "leak", "The leaks embarrassed the government in Minsk.", "leaks"),
    ("en", "document", "Reporters reviewed thousands of documents.", "documents"),
    ("en", "election", "Observers rejected the elections in Belarus.", "elections"),
]


@pytest.mark.parametrize(("language", "keyword", "sentence", "found"), SENTENCES)
def test_inflected_form_matches_with_its_language(
    language: str, keyword: str, sentence: str, found: str
) -> None:
    """With ``languages: [xx]``, a keyword matches its inflected form in a real sentence."""
    assert hit_texts(keyword, [language], sentence) == [found]


@pytest.mark.parametrize(("language", "keyword", "sentence", "found"), SENTENCES)
def test_inflected_form_needs_the_language(
    language: str, keyword: str, sentence: str, found: str
) -> None:
    """Without ``languages:``, the same keyword matches only as written."""
    assert hit_texts(keyword, [], sentence) == []


@pytest.mark.parametrize(
    ("keyword", "languages", "sentence"),
    [
        ("Belarus", ["en"], "The Belarusian opposition met in Vilnius."),  # another word
        ("Беларусь", ["ru", "be"], "Белорусские спортсмены выступят под флагом."),
        ("Білорусь", ["uk"], "Білоруський кордон закрито."),
        ("Лукашенко", ["ru"], "Лукашевич дал интервью."),  # only the same word
        ("Минск", ["ru"], "Минздрав сообщил о вакцинации."),
    ],
)
def test_languages_keep_other_words_apart(
    keyword: str, languages: list[str], sentence: str
) -> None:
    """Inflection joins forms of one word, not related words or mere prefixes."""
    assert hit_texts(keyword, languages, sentence) == []


@pytest.mark.parametrize(
    ("form", "languages", "expected"),
    [
        ("Беларуси", ["ru", "be"], True),
        ("Беларусі", ["ru", "be"], True),
        ("Беларуссю", ["ru", "be"], True),
        ("Беларуси", ["ru"], True),
        ("Беларусі", ["ru"], False),  # the Belarusian form needs be
        ("Беларуссю", ["ru"], False),
    ],
)
def test_every_listed_language_applies(form: str, languages: list[str], expected: bool) -> None:
    """A watch with several languages matches the forms of each, and only of those."""
    assert bool(hit_texts("Беларусь", languages, f"У {form} сёння")) is expected


def test_prefix_terms_are_not_inflected() -> None:
    """A prefix stays a prefix: languages add nothing to it."""
    assert hit_texts("Белорус*", ["ru"], "В Белоруссии и Беларуси") == ["Белоруссии"]


def test_inflection_applies_to_groups_queries_and_exclusions() -> None:
    """Inflected forms count in @groups, queries and exclude terms of the watch."""
    settings = Settings(
        terms={"belarus": ["Беларусь", "Белоруссия"]},
        watches=[
            {
                "name": "w",
                "query": "@belarus AND документ",
                "exclude": ["хоккей"],
                "languages": ["ru"],
            }
        ],
    )
    watchlist = compile_watchlist(settings)

    def run(title: str) -> bool:
        article = Article(feed_url="f", entry_key="1", link=None, link_key=None, title=title)
        return bool(watchlist.match(article))

    assert run("Белоруссии передали документы")
    assert not run("Белоруссии передали документы о хоккее")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("беларусь", "беларус"),
        ("беларусі", "беларус"),
        ("беларуссю", "беларус"),
        ("лукашэнкам", "лукашэнк"),
        ("кіеў", "кіев"),
        ("кіева", "кіев"),
        ("ціханоўскую", "ціханоўск"),
        ("дакументамі", "дакумент"),
        ("мінск", "мінск"),
        ("ўцечку", "уцечк"),  # ў after a vowel is у
        ("ды", "ды"),  # short words stay
    ],
)
def test_belarusian_stemmer(word: str, expected: str) -> None:
    """The light Belarusian stemmer strips the regular endings, keeping 3+ letters."""
    assert stem(word) == expected
