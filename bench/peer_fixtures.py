"""newswatch's parser against other parsers' test suites: per-field agreement on their
fixtures with expected values (gofeed, feed-rs, feedparser, reader).

    .venv/bin/python bench/peer_collect.py --mirrors /work/.mirror   # once: writes .peers/
    .venv/bin/python bench/peer_fixtures.py                          # the table + disagreements
    .venv/bin/python bench/peer_fixtures.py --project gofeed --field date --design

The fixtures and their expected values come from the peers' repositories
(``bench/peer_collect.py`` says which and how; they are the peers' test data under their
licenses, not part of newswatch) and are looked for in ``--peers``, else
``$NEWSWATCH_PEERS``, else ``.peers/`` or ``../shared/peers/`` beside the repository. Every
document goes through ``newswatch.parse.parse_feed`` as a fetched feed would: the lxml fast
path where it reads the document, feedparser where it declines, JSON Feed by ``json``; the
output says how many took which path. Each is parsed with the URL the peer's suite serves it
at where that matters (feedparser's ``http://127.0.0.1:8097/tests/...``), else a
``peers.example`` URL.

Each comparison ends in one of three verdicts, counted per field and per project:

- **agree** — our value equals the expected one under the rules below;
- **by design** — they differ because SPEC, DESIGN or a standard says we do otherwise:
  listed separately (``--design``), never counted as agreement. ``agree %`` is
  agree / (agree + disagree); ``strict %`` is agree / all, by-design counted against us;
- **disagree** — anything else, listed with both values.

What is compared:

- The feed's ``title`` and ``link``; per entry (paired by position in document order)
  ``title``, ``link``, ``id``, ``author``, ``date`` and ``text`` (summary and content, one
  comparison each). gofeed, feed-rs and reader state their *whole* result: a field is
  compared when either side has a value, so a value we produce that the peer does not have
  is a disagreement. feedparser's ``Expect:`` lines and its date table state only some
  fields: only those are compared.

When two values agree, and what is by design:

- Text (titles, summaries, content, authors): whitespace runs collapsed on both sides. We
  output text, not HTML, so the expected value agrees when ours equals it as written *or*
  as newswatch's HTML → text of it (a peer that keeps the markup of an HTML summary agrees
  with our text of it). A summary also agrees with our content when we have no summary
  (peers copy one into the other). feed-rs keeps ``media:description``/``itunes:summary`` as
  a media description, and reader (like JSON Feed's ``content_html``/``content_text``) can
  have several contents: ours agrees with any one of those forms.
- Links: equal as URLs (scheme and host case, an empty path is ``/``: RFC 3986 6.2.2-3), or
  equal to the expected link resolved against the feed URL. By design: a non-http(s) link
  we drop (``javascript:``, ``urn:``...: links are http(s) only, SPEC §3); an Atom ``<id>``
  a peer takes as the link (RFC 4287 4.2.6: an id must not be assumed dereferenceable); an
  RSS permalink ``<guid>`` we take as the link of an item without one (RSS 2.0) where the
  peer has none.
- Ids: the expected id equals our entry key (the guid/id as written, stripped). By design:
  our key is the normalized link where the peer's id is the raw link (SPEC §4); a relative
  guid is kept as written, not resolved against the document's URL (so that a feed served
  from a new URL keeps its entries' identities). Not compared: ids feed-rs makes up (a hash
  found nowhere in the document).
- Authors: our display name equals the expected name, or the e-mail address where the peer
  has no name, or the name inside a peer's raw ``desk@x.org (Jane Doe)``; several authors
  agree as the names joined with ", ".
- Dates: as instants in UTC, to the second (we drop fractions). We keep one date per entry
  (published, else updated, else created), so the expected value is the peer's first of
  those that it could read; a peer that read none expects no date. By design: no date where
  the peer's came from a partial date (``2003``, ``2003-12``, ``-0312``, an ordinal day: we
  never invent a missing day or month) or lies outside the plausible years 1970–2100; a
  date written without a zone, which we read as UTC, where the peer assumed a local zone
  (the two differ by a whole zone offset and nothing else).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from newswatch.errors import ParseError
from newswatch.models import Article, ParsedFeed
from newswatch.parse import html_to_text, normalize_url, parse_feed
from newswatch.parse.articles import Limits
from newswatch.parse.caps import cap_entries
from newswatch.parse.dates import MAX_YEAR, MIN_YEAR
from newswatch.parse.fastxml import parse_fast

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("feed title", "feed link", "title", "link", "id", "author", "date", "text")
AGREE, DESIGN, DISAGREE = "agree", "by design", "disagree"
_PARTIAL_DATE = re.compile(r"\s*(?:\d{4}(?:-\d{1,3})?|-\d{2,4}|\d{5}|\d{2}-\d{2}|-\d{2}-\d{2})\s*")
_ZONED = re.compile(r"[+-]\d{1,2}(?::?\d{2})?\s*$|[zZ]$|\b[A-Za-z]{1,5}(?:/[A-Za-z]+)?\s*$")
_EMAIL = r"(?:mailto:)?[^\s@<>()]+@[^\s@<>()]+"
_AUTHOR_SHAPES = (
    re.compile(rf"{_EMAIL}\s*\((?P<name>[^()]+)\)"),
    re.compile(rf"(?P<name>[^<>]+?)\s*<{_EMAIL}>"),
    re.compile(rf"(?P<name>[^()]+?)\s*\({_EMAIL}\)"),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One comparison: where, which field, the verdict, both values and the rule applied."""

    project: str
    case: str
    where: str  # "feed" or "entry N"
    field: str
    verdict: str
    ours: str
    expected: str
    rule: str = ""

    @property
    def key(self) -> str:
        """A stable name for this comparison (used by the golden test's lists)."""
        return f"{self.project}:{self.case}:{self.where}:{self.field}"


@dataclass(slots=True)
class CaseResult:
    """What one fixture gave: the path that parsed it and its comparisons."""

    path: str
    outcomes: list[Outcome] = field(default_factory=list)


def peers_dir(given: Path | None = None) -> Path | None:
    """Where the collected fixtures are, if anywhere."""
    candidates = [given] if given else []
    if os.environ.get("NEWSWATCH_PEERS"):
        candidates.append(Path(os.environ["NEWSWATCH_PEERS"]))
    candidates += [ROOT / ".peers", ROOT.parent / "shared" / "peers"]
    return next((c for c in candidates if c and (c / "gofeed" / "cases.json").is_file()), None)


def load_projects(root: Path) -> dict[str, dict[str, Any]]:
    """Every project's ``cases.json`` under ``root``, by project name."""
    projects = {}
    for path in sorted(root.glob("*/cases.json")):
        document = json.loads(path.read_text())
        projects[document["project"]] = document
    return projects


def run_case(project: str, case: dict[str, Any], root: Path) -> CaseResult:
    """Parse one fixture and compare it with its expected values."""
    body = (root / project / case["file"]).read_bytes()
    url, content_type = case["feed_url"], case["content_type"]
    try:
        parsed: ParsedFeed | None = parse_feed(body, feed_url=url, content_type=content_type)
    except ParseError as exc:
        parsed, error = None, f"<ParseError: {exc}>"
    result = CaseResult(_path(body, url, content_type, parsed))
    compare = _Comparer(project, case, body, result)
    if parsed is None:
        compare.failed(error)
    else:
        compare.feed(parsed)
    return result


def _path(body: bytes, url: str, content_type: str, parsed: ParsedFeed | None) -> str:
    """Which of our parsers read the document."""
    if parsed is None:
        return "refused"
    if parsed.version.startswith("json"):
        return "json"
    fast = parse_fast(cap_entries(body, 1000), content_type, Limits(url, 1000, 100_000))
    return "lxml" if fast is not None else "feedparser"


class _Comparer:
    """The comparisons of one fixture, appended to its ``CaseResult``."""

    def __init__(self, project: str, case: dict[str, Any], body: bytes, result: CaseResult):
        self.project, self.case, self.body, self.result = project, case, body, result
        self.complete = bool(case["complete"])
        self.url = case["feed_url"]
        self.is_rss = b"<rss" in body[:4096].lower() or b"rdf:rdf" in body[:4096].lower()

    def add(self, where: str, name: str, verdict: str | None, ours: Any, expected: Any,
            rule: str = "") -> None:  # fmt: skip
        if verdict is not None:
            outcome = Outcome(
                self.project,
                self.case["name"],
                where,
                name,
                verdict,
                _show(ours),
                _show(expected),
                rule,
            )
            self.result.outcomes.append(outcome)

    def failed(self, error: str) -> None:
        """The document was refused: every expected value is missed."""
        feed = self.case["feed"]
        for name in ("title", "link"):
            if feed.get(name):
                self.add("feed", f"feed {name}", DISAGREE, error, feed[name])
        for number, entry in enumerate(self.case["entries"]):
            for name, value in _entry_fields(entry):
                if value:
                    self.add(f"entry {number}", name, DISAGREE, error, value)

    def feed(self, parsed: ParsedFeed) -> None:
        expected = self.case["feed"]
        if "title" in expected or self.complete:
            self.add("feed", "feed title", *_text(parsed.title, expected.get("title"), self))
        if "link" in expected or self.complete:
            self.add("feed", "feed link", *_link(parsed.link, expected.get("link"), self))
        entries = self.case["entries"]
        count = max(len(entries), len(parsed.articles)) if self.complete else len(entries)
        for number in range(count):
            ours = parsed.articles[number] if number < len(parsed.articles) else None
            wanted = entries[number] if number < len(entries) else {}
            self.entry(f"entry {number}", ours, wanted)

    def entry(self, where: str, ours: Article | None, wanted: dict[str, Any]) -> None:
        article = ours or Article(feed_url=self.url, entry_key="", link=None, link_key=None,
                                  title="")  # fmt: skip
        complete = self.complete
        if "title" in wanted or complete:
            self.add(where, "title", *_text(article.title, wanted.get("title"), self))
        if "link" in wanted or complete:
            self.add(where, "link", *_entry_link(article, wanted, self))
        if wanted.get("id"):
            self.add(where, "id", *_id(article, wanted, self))
        if "author" in wanted or complete:
            self.add(where, "author", *_author(article.author, wanted.get("author"), self))
        if any(k in wanted for k in ("published", "updated", "created")) or complete:
            self.add(where, "date", *_date(article.published, wanted, self))
        if "summary" in wanted or complete:
            self.add(f"{where} summary", "text", *_summary(article, wanted, self))
        if "content" in wanted or complete:
            self.add(f"{where} content", "text", *_content(article, wanted, self))


def _entry_fields(entry: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name in ("title", "link", "id", "author"):
        yield name, entry.get(name)
    yield "date", next((entry[k] for k in ("published", "updated", "created") if entry.get(k)),
                       None)  # fmt: skip
    yield "text", entry.get("summary")
    yield "text", entry.get("content")


Verdict = tuple[str | None, Any, Any] | tuple[str | None, Any, Any, str]


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _text(ours: str, expected: Any, cmp: _Comparer) -> Verdict:
    """Text agrees as written or as our HTML → text of the expected value."""
    wanted = expected if isinstance(expected, str) else ""
    if not _collapse(wanted) and not ours:
        return None, ours, expected
    if not _collapse(wanted) and not cmp.complete:
        return None, ours, expected
    if _collapse(ours) in (_collapse(wanted), _collapse(html_to_text(wanted))):
        return AGREE, ours, expected
    return DISAGREE, ours, expected


def _summary(article: Article, wanted: dict[str, Any], cmp: _Comparer) -> Verdict:
    expected = wanted.get("summary")
    verdict = _text(article.summary, expected, cmp)
    copied = verdict[0] == DISAGREE and not article.summary and article.content
    if copied and _text(article.content, expected, cmp)[0] == AGREE:
        return AGREE, article.content, expected, "summary = our content"
    for other in wanted.get("summary_also") or []:  # feed-rs: media:description
        if verdict[0] == DISAGREE and _text(article.summary, other, cmp)[0] == AGREE:
            return AGREE, article.summary, other, "the peer's media description"
    return verdict


def _content(article: Article, wanted: dict[str, Any], cmp: _Comparer) -> Verdict:
    expected = wanted.get("content")
    verdict = _text(article.content, expected, cmp)
    for part in (wanted.get("content_parts") or []) + (wanted.get("summary_also") or []):
        if verdict[0] == DISAGREE and _text(article.content, part, cmp)[0] == AGREE:
            return AGREE, article.content, expected, "one of the peer's contents"
    return verdict


def _link(ours: str | None, expected: Any, cmp: _Comparer) -> Verdict:
    wanted = expected.strip() if isinstance(expected, str) else ""
    if not wanted and not ours:
        return None, ours, expected
    if not wanted:
        return (DISAGREE if cmp.complete else None), ours, expected
    if ours and any(_same_url(ours, w) for w in (wanted, _join(cmp.url, wanted))):
        return AGREE, ours, expected
    resolved = _join(cmp.url, wanted)
    scheme = resolved.partition(":")[0].lower()
    if ours is None and scheme not in ("http", "https"):
        return DESIGN, ours, expected, "links are http(s) only"
    return DISAGREE, ours, expected


def _entry_link(article: Article, wanted: dict[str, Any], cmp: _Comparer) -> Verdict:
    verdict = _link(article.link, wanted.get("link"), cmp)
    guid = article.entry_key
    from_id = wanted.get("link") and wanted.get("link") == wanted.get("id")
    if verdict[0] != AGREE and article.link is None and not cmp.is_rss and from_id:
        return DESIGN, None, wanted.get("link"), "an Atom id is not a link (RFC 4287 4.2.6)"
    unlinked = verdict[0] == DISAGREE and not wanted.get("link") and cmp.is_rss
    if unlinked and article.link and article.link in (guid, _join(cmp.url, guid)):
        return DESIGN, article.link, None, "an RSS permalink guid is the link (RSS 2.0)"
    return verdict


def _same_url(one: str, other: str) -> bool:
    """Equal as URLs (RFC 3986 6.2.2-6.2.3): scheme and host case, an empty path."""
    try:
        a, b = urlsplit(one), urlsplit(other)
        return (a.scheme.lower(), (a.hostname or ""), a.port, a.path or "/", a.query,
                a.fragment) == (b.scheme.lower(), (b.hostname or ""), b.port, b.path or "/",
                                b.query, b.fragment)  # fmt: skip
    except ValueError:
        return one == other


def _join(base: str, link: str) -> str:
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def _id(article: Article, wanted: dict[str, Any], cmp: _Comparer) -> Verdict:
    expected = str(wanted["id"]).strip()
    ours = article.entry_key
    if wanted.get("id_may_be_invented") and not _in_document(expected, cmp.body):
        return None, ours, expected
    if ours == expected:
        return AGREE, ours, expected
    if ours and expected == _join(cmp.url, ours) and ours != expected:
        return DESIGN, ours, expected, "a guid is kept as written, not resolved against a base"
    normalized = normalize_url(_join(cmp.url, expected))
    if normalized and ours == normalized and ours == article.link_key:
        return DESIGN, ours, expected, "an entry without an id is keyed by its normalized link"
    return DISAGREE, ours, expected


def _in_document(text: str, body: bytes) -> bool:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    return any(form.encode() in body for form in (text, escaped))


def _author(ours: str, expected: Any, cmp: _Comparer) -> Verdict:
    wanted = expected if isinstance(expected, dict) else {}
    names = []
    if wanted.get("name"):
        names.append(wanted["name"])
    elif wanted.get("email"):
        names.append(wanted["email"])
    if len(wanted.get("names") or []) > 1:
        names.append(", ".join(wanted["names"]))
    texts = [wanted.get(k) for k in ("raw", "name", "email")]
    for raw in (t for t in texts if isinstance(t, str) and t.strip()):
        names.append(raw)
        for shape in _AUTHOR_SHAPES:
            found = shape.fullmatch(_collapse(raw))
            if found:
                names.append(found["name"].strip().strip('"'))
    if not names:
        return (DISAGREE if cmp.complete and ours else None), ours, expected
    for name in names:
        if _text(ours, name, cmp)[0] == AGREE:
            return AGREE, ours, expected
    return DISAGREE, ours, expected


def _date(ours: datetime | None, wanted: dict[str, Any], cmp: _Comparer) -> Verdict:
    stated = [wanted[k] for k in ("published", "updated", "created") if wanted.get(k)]
    readable = [d for d in stated if d.get("at")]
    if not readable:
        if not stated and (ours is None or not cmp.complete):
            return None, ours, None
        return (AGREE if ours is None else DISAGREE), ours, stated[0] if stated else None
    expected = _instant(readable[0]["at"])
    if ours == expected:
        return AGREE, ours, readable[0]
    raw = readable[0].get("raw")
    if ours is None and not MIN_YEAR <= expected.year <= MAX_YEAR:
        return DESIGN, ours, readable[0], "implausible year (outside 1970–2100)"
    if ours is None and isinstance(raw, str) and _PARTIAL_DATE.fullmatch(raw):
        return DESIGN, ours, readable[0], "a partial date: no day is invented"
    if ours and isinstance(raw, str) and not _ZONED.search(raw):
        shift = (ours - expected).total_seconds()
        if shift % 900 == 0 and abs(shift) <= 14 * 3600:
            return DESIGN, ours, readable[0], "a date without a zone is read as UTC"
    return DISAGREE, ours, readable[0]


def _instant(text: str) -> datetime:
    """An RFC 3339 time in UTC, to the second (we drop fractions of a second)."""
    when = datetime.fromisoformat(text.replace("z", "Z"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0)


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


# ---- report -------------------------------------------------------------------------


def run_all(root: Path, only: str | None = None) -> tuple[list[Outcome], Counter[str]]:
    """Every comparison of every project (or only one), and how many took each path."""
    outcomes: list[Outcome] = []
    paths: Counter[str] = Counter()
    for project, document in load_projects(root).items():
        if only and project != only:
            continue
        for case in document["cases"]:
            result = run_case(project, case, root)
            paths[f"{project} {result.path}"] += 1
            outcomes += result.outcomes
    return outcomes, paths


def table(outcomes: list[Outcome]) -> str:
    """Per project and overall: agree % (and counts) for every field."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.project].append(outcome)
    groups["overall"] = outcomes
    lines = ["| project | field | compared | agree | by design | disagree | agree % | strict % |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for project, group in groups.items():
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for outcome in group:
            counts[outcome.field][outcome.verdict] += 1
        counts["all fields"] = sum(counts.values(), Counter())
        for name in (*FIELDS, "all fields"):
            c = counts.get(name)
            if not c:
                continue
            total = sum(c.values())
            judged = c[AGREE] + c[DISAGREE]
            pct = 100.0 * c[AGREE] / judged if judged else 100.0
            strict = 100.0 * c[AGREE] / total
            lines.append(
                f"| {project} | {name} | {total} | {c[AGREE]} | {c[DESIGN]} | {c[DISAGREE]} "
                f"| {pct:.1f} | {strict:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=Path, help="the collected fixtures (see above)")
    parser.add_argument("--project", help="only this project")
    parser.add_argument("--field", help="list disagreements of this field only")
    parser.add_argument("--design", action="store_true", help="also list by-design differences")
    parser.add_argument("--limit", type=int, default=30, help="disagreements listed per field")
    parser.add_argument("--json", type=Path, help="write every comparison to this file")
    args = parser.parse_args()
    root = peers_dir(args.peers)
    if root is None:
        sys.exit("no collected fixtures: run bench/peer_collect.py first (see --help)")
    outcomes, paths = run_all(root, args.project)
    print(table(outcomes))
    print("\nparsed by: " + ", ".join(f"{k}: {v}" for k, v in sorted(paths.items())))
    shown = [DISAGREE, DESIGN] if args.design else [DISAGREE]
    listed: Counter[tuple[str, str]] = Counter()
    for outcome in outcomes:
        if outcome.verdict not in shown or (args.field and outcome.field != args.field):
            continue
        listed[(outcome.field, outcome.verdict)] += 1
        if listed[(outcome.field, outcome.verdict)] > args.limit:
            continue
        rule = f" ({outcome.rule})" if outcome.rule else ""
        print(f"\n[{outcome.verdict}] {outcome.key}{rule}")
        print(f"    ours:     {outcome.ours}\n    expected: {outcome.expected}")
    if args.json:
        rows = [outcome.__dict__ if hasattr(outcome, "__dict__") else _row(outcome)
                for outcome in outcomes]  # fmt: skip
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


def _row(outcome: Outcome) -> dict[str, str]:
    return {name: getattr(outcome, name) for name in Outcome.__slots__}


if __name__ == "__main__":
    main()
