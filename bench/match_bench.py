"""How fast the watchlist matches: 1,000 and 10,000 watches over 10,000 ~3 KB articles.

    .venv/bin/python bench/match_bench.py                 # both sizes, 10,000 articles
    .venv/bin/python bench/match_bench.py --watches 1000 --articles 20000
    .venv/bin/python bench/match_bench.py --replay        # also time `newswatch replay`

Articles are generated (seeded, so every run sees the same text): news-like prose in
English, Russian, Ukrainian and Belarusian — common words in a Zipf-like mix, declined
names of people, places and organisations, typographic dashes, quotes, no-break spaces
and ellipses. Watches follow those names the way a newsroom's do: keyword lists, term
groups, boolean queries, phrases, NEAR, field prefixes, exclusions, a few regexes, and
``languages:`` on a third of them.

Printed per watchlist size: compile time; a first pass over the articles (every word new
to the caches, inflection analysed) and a second pass (steady state, what a running
daemon sees), as articles/s and µs/article on one core; and how many matched. With
``--replay``: the wall time of ``newswatch replay`` (a fresh process: start-up, config
load with 1,000 watches, compile, SQLite read, matching) over 10,000 stored articles,
as articles/s including all of that (issue 12: at least 5,000/s).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswatch.config import Settings
from newswatch.match import compile_watchlist
from newswatch.models import Article

EN = """the of and to in a is that for on said was with he it as at by from his have be are
has but not an they were had after who been this their its which will also more one would
about over two people government president minister election report police officials
country new year last week first told according state security court opposition foreign
documents leaked protest capital border military army troops talks sanctions economy
energy gas oil prices ministry parliament vote law city regime authorities statement
investigation journalists media independent sources meeting visit agreement support
against between during under since while where when could should may must did into out
than then there these those such many most some other only just even still after before
""".split()
RU = """и в не на что с по как это он из за к для от о то же все так его но было при
был она уже или они бы если были когда до года время только также может после был будет
президент правительство министр выборы страны заявил сообщил власти оппозиция документы
утечка протест столица граница армия войска переговоры санкции экономика газ нефть цены
министерство парламент закон город режим следствие журналисты издание источники встреча
визит соглашение поддержка против между во время под где могли должны более нового года
""".split()
UK = """і в не на що з по як це він із за до для від про те ж все так його але було при
був вона вже або вони б якщо були коли року час тільки також може після буде президент
уряд міністр вибори країни заявив повідомив влада опозиція документи витік протест
столиця кордон армія війська переговори санкції економіка газ нафта ціни міністерство
парламент закон місто режим слідство журналісти видання джерела зустріч візит угода
""".split()
BE = """і ў не на што з па як гэта ён з за да для ад пра тое ж усе так яго але было пры
быў яна ўжо ці яны б калі былі года час толькі таксама можа пасля будзе прэзідэнт урад
міністр выбары краіны заявіў паведаміў улады апазіцыя дакументы ўцечка пратэст сталіца
мяжа армія войскі перамовы санкцыі эканоміка газ нафта цэны міністэрства парламент
закон горад рэжым следства журналісты выданне крыніцы сустрэча візіт пагадненне
""".split()
LANGS = {"en": EN, "ru": RU, "uk": UK, "be": BE}
LATIN = "ka ri to ma ven sol dar eli no bra tes kor lin mu sa vel gor an ist par".split()
CYRILLIC = "ка ри то ма вен сол дар ели но бра тес кор лин му са вел гор ан ист пар".split()
ENDINGS = ["", "", "", "а", "у", "ом", "е", "ы", "и", "ой", "ую"]  # Cyrillic case forms
TOPICS = ["leak*", "protest*", "sanctions", "election", "\"leaked documents\"", "border",
          "утечк*", "протест*", "выборы", "санкции", "документы", "вибори", "выбары"]  # fmt: skip
PUNCT = [", ", ", ", " — ", "\u00a0— ", ": ", " «", "» ", "… ", "; "]


def entities(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(Latin, Cyrillic) spellings of made-up names: people, places, organisations."""
    names = set()
    while len(names) < count:
        parts = rng.randint(2, 4)
        pick = [rng.randrange(len(LATIN)) for _ in range(parts)]
        names.add(tuple(pick))
    return [
        ("".join(LATIN[i] for i in p).capitalize(), "".join(CYRILLIC[i] for i in p).capitalize())
        for p in sorted(names)
    ]


def zipf_pick(rng: random.Random, items: list[str]) -> str:
    """An item, the first ones much more often (rank-frequency like real text)."""
    return items[min(int(rng.paretovariate(1.1)) - 1, len(items) - 1)]


def sentence(rng: random.Random, language: str, names: list[str]) -> str:
    vocab = LANGS[language]
    out = []
    for _ in range(rng.randint(8, 22)):
        if rng.random() < 0.08:
            name = rng.choice(names)
            out.append(name + (rng.choice(ENDINGS) if language != "en" else ""))
        else:
            out.append(zipf_pick(rng, vocab))
        if rng.random() < 0.07:
            out[-1] += rng.choice(PUNCT).rstrip()
    text = " ".join(out)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "!", "?", "…"])


def make_articles(count: int, names: list[tuple[str, str]], seed: int = 7) -> list[Article]:
    """``count`` articles of about 3 KB (title, summary, content), in four languages."""
    rng = random.Random(seed)
    articles = []
    weights = [0.4, 0.3, 0.15, 0.15]
    for i in range(count):
        language = rng.choices(list(LANGS), weights)[0]
        script = 0 if language == "en" else 1
        cast = [names[min(int(rng.paretovariate(0.6)), len(names)) - 1][script] for _ in range(4)]
        title = sentence(rng, language, cast)[:120]
        summary = " ".join(sentence(rng, language, cast) for _ in range(2))
        content = []
        while sum(len(p) for p in content) < 2600:
            content.append(sentence(rng, language, cast))
        articles.append(
            Article(
                feed_url=f"https://feed{i % 40}.example.org/rss",
                entry_key=str(i),
                link=f"https://news.example.org/{i}",
                link_key=f"https://news.example.org/{i}",
                title=title,
                summary=summary,
                content=" ".join(content),
            )
        )
    return articles


def make_watchlist(count: int, names: list[tuple[str, str]], seed: int = 11) -> dict:
    """A watchlist of ``count`` watches (plain data, as YAML would give it)."""
    rng = random.Random(seed)
    groups = {}
    for g in range(max(20, count // 10)):
        latin, cyrillic = names[rng.randrange(len(names))]
        groups[f"g{g}"] = [latin, cyrillic, latin + "s", cyrillic + "ы"]
    watches = []
    for w in range(count):
        latin, cyrillic = names[rng.randrange(len(names))]
        other = names[rng.randrange(len(names))][rng.randrange(2)]
        topic = rng.choice(TOPICS)
        kind = rng.random()
        watch: dict = {"name": f"w{w}"}
        if kind < 0.45:
            watch["keywords"] = [latin, cyrillic] + (
                [f"@g{rng.randrange(len(groups))}"] if rng.random() < 0.3 else []
            )
        elif kind < 0.65:
            watch["query"] = f"({latin} OR {cyrillic}) AND ({topic} OR {other})"
        elif kind < 0.75:
            watch["query"] = f"{cyrillic} NEAR/5 {topic}"
        elif kind < 0.85:
            watch["keywords"] = [f'"{latin} {other}"', f"title:{cyrillic}"]
        elif kind < 0.99:
            watch["keywords"] = [f"@g{rng.randrange(len(groups))}", latin]
            watch["exclude"] = [other, "hockey", "хоккей"]
        else:
            watch["query"] = f"/{cyrillic.lower()[:4]}[а-я]+/ AND {latin}"
        if rng.random() < 0.33:
            watch["languages"] = rng.choice(
                [["en", "ru"], ["ru", "uk", "be"], ["en", "ru", "uk", "be"]]
            )
        watches.append(watch)
    return {"terms": groups, "watches": watches}


def run_pass(watchlist, articles: list[Article]) -> tuple[float, float, int]:
    """Wall and CPU seconds to match every article, and how many matches there were."""
    start, cpu = time.perf_counter(), time.thread_time()
    matched = 0
    for article in articles:
        matched += len(watchlist.match(article))
    return time.perf_counter() - start, time.thread_time() - cpu, matched


def bench(watches: int, articles: list[Article], names: list[tuple[str, str]]) -> None:
    data = make_watchlist(watches, names)
    settings = Settings.model_validate(data)
    start = time.perf_counter()
    watchlist = compile_watchlist(settings)
    compiled = time.perf_counter() - start
    print(
        f"{watches} watches ({watchlist.index.size} distinct words): compiled in {compiled:.2f} s"
    )
    for label in ("first pass (cold caches)", "second pass (steady state)"):
        elapsed, cpu, matched = run_pass(watchlist, articles)
        print(
            f"  {label}: {len(articles)} articles in {cpu:.2f} s of CPU "
            f"({elapsed:.2f} s wall) = {len(articles) / cpu:,.0f} articles/s, "
            f"{cpu / len(articles) * 1e6:,.0f} µs/article; "
            f"{matched} matches ({matched / len(articles):.2f} per article)"
        )


def bench_replay(names: list[tuple[str, str]], watches: int = 1000, stored: int = 10_000) -> None:
    """Time `newswatch replay` as a user runs it: a new process over a real database."""
    import yaml

    from newswatch.store import FeedUpdate, SQLiteStore

    folder = Path(tempfile.mkdtemp(prefix="newswatch-bench-"))
    data = make_watchlist(watches, names)
    data["database"] = "bench.db"
    # The stored articles come from each feed's first fetch: with the default first_run
    # (``new``) replay passes over them (SPEC §4) and would match nothing.
    data["poll"] = {"first_run": "all"}
    feeds = sorted({a.feed_url for a in make_articles(40, names)})
    data["feeds"] = [{"url": url} for url in feeds]
    config = folder / "watchlist.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    now = datetime.now(UTC)
    store = SQLiteStore(folder / "bench.db")
    store.ensure_feeds([(url, None) for url in feeds])
    articles = make_articles(stored, names, seed=99)
    for url in feeds:
        batch = [a for a in articles if a.feed_url == url]
        store.commit_poll(url, FeedUpdate(success=True), batch, {}, now - timedelta(hours=1))
    store.close()
    command = [
        sys.executable,
        "-m",
        "newswatch",
        "--config",
        str(config),
        "replay",
        "--since",
        "7d",
    ]
    for label in ("first run", "second run"):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        said = result.stderr.strip().splitlines()[-1]
        rate = stored / elapsed
        print(f"  replay, {label}: {elapsed:.2f} s wall = {rate:,.0f} articles/s — {said}")
    print(f"  (database and config kept in {folder})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, action="append", help="default: 1000 and 10000")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--replay", action="store_true", help="also time `newswatch replay`")
    args = parser.parse_args()
    names = entities(random.Random(3), 3000)
    start = time.perf_counter()
    articles = make_articles(args.articles, names)
    size = sum(len(a.title) + len(a.summary) + len(a.content) for a in articles) / len(articles)
    print(
        f"{len(articles)} articles of {size:,.0f} characters on average "
        f"(generated in {time.perf_counter() - start:.1f} s)"
    )
    for count in args.watches or [1000, 10_000]:
        bench(count, articles, names)
    if args.replay:
        print("replay over 10,000 stored articles with 1,000 watches:")
        bench_replay(names)


if __name__ == "__main__":
    main()
