"""Collect other feed parsers' test fixtures, with their expected values, for
``bench/peer_fixtures.py``.

    .venv/bin/python bench/peer_collect.py --mirrors DIR [--out .peers]

``DIR`` holds bare git copies of the peers' repositories, one per project, named
``OWNER+NAME/repo`` (mmcdole+gofeed, feed-rs+feed-rs, kurtmckee+feedparser, lemon24+reader);
files are read from each one's ``HEAD`` with ``git show``. Nothing is fetched from the
network, and nothing here runs or evaluates the peers' code: their expected values are read
as data (gofeed's and feed-rs's JSON; feedparser's ``Expect:`` lines and its date-parser
table, and reader's expected ``*.py`` files, through :mod:`ast` with literals only).

The output, one folder per project, is what ``peer_fixtures.py`` and
``tests/test_parse_peers.py`` read: ``files/`` (the fixture documents, byte for byte),
``cases.json`` (per fixture: the feed URL and content type it is parsed with, whether the
expected values are the peer's whole result or only the conditions its test states, and the
expected feed and entry fields in one shape for all peers) and ``NOTICE`` (source, commit,
license). These are the peers' test data under their own licenses (gofeed MIT, feed-rs MIT,
feedparser BSD-2-Clause, reader BSD-3-Clause); they are not part of newswatch's source.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Case = dict[str, Any]

REPOS = {
    "gofeed": ("mmcdole+gofeed", "https://github.com/mmcdole/gofeed", "MIT", "LICENSE"),
    "feed-rs": ("feed-rs+feed-rs", "https://github.com/feed-rs/feed-rs", "MIT",
                "feed-rs/LICENSE-MIT"),
    "feedparser": ("kurtmckee+feedparser", "https://github.com/kurtmckee/feedparser",
                   "BSD-2-Clause", "LICENSE"),
    "reader": ("lemon24+reader", "https://github.com/lemon24/reader", "BSD-3-Clause", "LICENSE"),
}  # fmt: skip
# feedparser's test folders whose Expect lines are about parsing feeds (sanitize/ checks its
# HTML sanitizer's output markup, encoding/ and http/ the charset and HTTP handling).
FEEDPARSER_DIRS = ("tests/wellformed", "tests/illformed")
FEEDPARSER_SKIP = ("/sanitize/", "/http/", "/chardet/")
# feedparser names for the fields compared, as in its Expect lines.
FP_ENTRY = {
    ("title",): "title", ("title_detail", "value"): "title",
    ("link",): "link", ("id",): "id", ("guid",): "id",
    ("author",): "author_raw", ("author_detail", "name"): "author",
    ("summary",): "summary", ("description",): "summary",
    ("summary_detail", "value"): "summary", ("content", 0, "value"): "content",
    ("published_parsed",): "published", ("updated_parsed",): "updated",
    ("created_parsed",): "created", ("issued_parsed",): "published",
    ("modified_parsed",): "updated", ("date_parsed",): "updated",
}  # fmt: skip
FP_FEED = {("title",): "title", ("title_detail", "value"): "title", ("link",): "link"}


class Mirror:
    """One bare git copy of a peer's repository, read at HEAD."""

    def __init__(self, root: Path, name: str) -> None:
        self.git = root / name / "repo"
        self.commit = self._run("rev-parse", "HEAD").decode().strip()

    def _run(self, *args: str) -> bytes:
        command = ["git", "--git-dir", str(self.git), *args]
        return subprocess.run(command, check=True, capture_output=True).stdout

    def files(self, under: str) -> list[str]:
        listing = self._run("ls-tree", "-r", "--name-only", "HEAD", under).decode()
        return [line for line in listing.split("\n") if line]

    def read(self, path: str) -> bytes:
        return self._run("show", f"HEAD:{path}")


def _stamp(when: datetime) -> str:
    """RFC 3339 UTC, four-digit year (feedparser's table has the year 99)."""
    return f"{when.year:04d}" + when.strftime("-%m-%dT%H:%M:%SZ")


# ---- gofeed -------------------------------------------------------------------------


def gofeed_cases(mirror: Mirror, out: Path) -> Iterator[Case]:
    """gofeed's parser (RSS, Atom, JSON) and translator (universal) fixtures: every
    document with its expected JSON (gofeed omits empty fields: the JSON is its whole
    result)."""
    files = set(mirror.files("testdata/parser") + mirror.files("testdata/translator"))
    for path in sorted(files):
        if "/universal/" in path or "/invalid" in path:
            continue
        stem, suffix = path.rsplit(".", 1)
        if suffix not in ("xml", "json") or stem.endswith("_expected"):
            continue
        expected_path = f"{stem}.json" if suffix == "xml" else f"{stem}_expected.json"
        if expected_path not in files:
            continue
        expected = json.loads(mirror.read(expected_path))
        kind = path.split("/")[1:3]  # ["parser", "rss"]
        convert = _GOFEED[tuple(kind)]
        feed, entries = convert(expected)
        yield _case("gofeed", mirror, out, path, feed, entries, complete=True)


def _gf_author(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and (value.get("name") or value.get("email")):
        return {"name": value.get("name"), "email": value.get("email")}
    return None


def _author_list(authors: list[Any]) -> dict[str, Any] | None:
    """The first author, with every author's name (for a list of several)."""
    found = [a for a in (_gf_author(v) for v in authors) if a]
    if not found:
        return None
    return {**found[0], "names": [a["name"] for a in found if a.get("name")]}


def _gf_authors(item: dict[str, Any]) -> dict[str, Any] | None:
    authors = item.get("authors") or []
    return _author_list(authors) if authors else _gf_author(item.get("author"))


def _gf_date(item: dict[str, Any], key: str) -> dict[str, str | None] | None:
    parsed, raw = item.get(f"{key}Parsed"), item.get(key)
    if parsed is None and raw is None:
        return None
    return {"at": parsed, "raw": raw}


def _gf_rss(doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    entries = []
    for item in doc.get("items") or []:
        guid = item.get("guid") or {}
        dc = item.get("dcExt") or {}
        # gofeed's translator takes the author from dc:creator, else itunes:author
        creator = (dc.get("creator") or [None])[0] or (item.get("itunesExt") or {}).get("author")
        entries.append({
            "title": item.get("title") or (dc.get("title") or [None])[0],
            "link": item.get("link"),
            "id": guid.get("value"),
            "author": {"raw": item.get("author") or creator} if item.get("author") or creator
            else None,
            "published": _gf_date(item, "pubDate") or _gf_dc_date(dc),
            "summary": item.get("description"),
            "content": item.get("content"),
        })  # fmt: skip
    return {"title": doc.get("title"), "link": doc.get("link")}, entries


def _gf_dc_date(dc: dict[str, Any]) -> dict[str, str | None] | None:
    """gofeed's RSS parser keeps ``dc:date`` unparsed: no expected instant (not compared)."""
    return None


def _gf_atom(doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    entries = []
    for entry in doc.get("entries") or []:
        content = entry.get("content") or {}
        entries.append({
            "title": entry.get("title"),
            "link": _gf_alternate(entry.get("links") or []),
            "id": entry.get("id"),
            "author": _gf_authors(entry),
            "published": _gf_date(entry, "published"),
            "updated": _gf_date(entry, "updated"),
            "summary": entry.get("summary"),
            "content": content.get("value") if not content.get("src") else None,
        })  # fmt: skip
    feed = {"title": doc.get("title"), "link": _gf_alternate(doc.get("links") or [])}
    return feed, entries


def _gf_alternate(links: list[dict[str, Any]]) -> str | None:
    for link in links:
        if (link.get("rel") or "alternate") == "alternate" and link.get("href") is not None:
            return str(link["href"])
    return None


def _gf_json(doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    entries = []
    for item in doc.get("items") or []:
        entries.append({
            "title": item.get("title"),
            "link": item.get("url"),
            "id": item.get("id"),
            "author": _gf_authors(item) or _gf_authors(doc),
            "published": _json_date(item.get("date_published")),
            "updated": _json_date(item.get("date_modified")),
            "summary": item.get("summary"),
            "content": item.get("content_html") or item.get("content_text"),
        })  # fmt: skip
    return {"title": doc.get("title"), "link": doc.get("home_page_url")}, entries


def _json_date(raw: Any) -> dict[str, str | None] | None:
    """gofeed's JSON parser keeps dates as written; JSON Feed dates are RFC 3339, read here
    with Python's own ``fromisoformat`` (None where it cannot: not compared)."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        at = datetime.fromisoformat(raw).astimezone(UTC)
    except ValueError:
        return None
    return {"at": _stamp(at), "raw": raw}


def _gf_universal(doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    entries = []
    for item in doc.get("items") or []:
        entries.append({
            "title": item.get("title"),
            "link": item.get("link"),
            "id": item.get("guid"),
            "author": _gf_authors(item),
            "published": _gf_date(item, "published"),
            "updated": _gf_date(item, "updated"),
            "summary": item.get("description"),
            "content": item.get("content"),
        })  # fmt: skip
    return {"title": doc.get("title"), "link": doc.get("link")}, entries


_GOFEED: dict[tuple[str, ...], Callable[[dict[str, Any]], Any]] = {
    ("parser", "rss"): _gf_rss,
    ("parser", "atom"): _gf_atom,
    ("parser", "json"): _gf_json,
    ("translator", "rss"): _gf_universal,
    ("translator", "atom"): _gf_universal,
    ("translator", "json"): _gf_universal,
}


# ---- feed-rs ------------------------------------------------------------------------


def feedrs_cases(mirror: Mirror, out: Path) -> Iterator[Case]:
    """feed-rs's fixtures (real-world feeds among them) with the ``*.serde.json`` its own
    regression tests compare against: its whole result."""
    files = set(mirror.files("feed-rs/fixture"))
    for path in sorted(files):
        if path.endswith(".serde.json") or not path.endswith((".xml", ".json")):
            continue
        expected_path = path.rsplit(".", 1)[0] + ".serde.json"
        if expected_path not in files:
            continue
        doc = json.loads(mirror.read(expected_path))
        entries = [_fr_entry(e) for e in doc.get("entries") or []]
        feed = {"title": _fr_text(doc.get("title")), "link": _fr_link(doc.get("links") or [])}
        yield _case("feed-rs", mirror, out, path, feed, entries, complete=True)


def _fr_text(value: Any) -> str | None:
    return value.get("content") if isinstance(value, dict) else None


def _fr_link(links: list[dict[str, Any]]) -> str | None:
    for link in links:
        if link.get("rel") in (None, "alternate"):
            return str(link.get("href"))
    return None


def _fr_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """feed-rs keeps ``itunes:author`` and ``media:credit`` as media credits and
    ``media:description`` / ``itunes:summary`` as media descriptions: those count as its
    author and as another form of its summary."""
    content = entry.get("content") or {}
    media = entry.get("media") or []
    credits = [c.get("entity") for m in media for c in m.get("credits") or []]
    authors = entry.get("authors") or [{"name": c} for c in credits if c]
    descriptions = [_fr_text(m.get("description")) for m in media]
    return {
        "title": _fr_text(entry.get("title")),
        "link": _fr_link(entry.get("links") or []),
        "id": entry.get("id"),
        "id_may_be_invented": True,  # feed-rs makes up an id (a hash) for entries without one
        "author": _author_list(authors),
        "summary_also": [d for d in descriptions if d],
        "published": {"at": entry["published"], "raw": None} if entry.get("published") else None,
        "updated": {"at": entry["updated"], "raw": None} if entry.get("updated") else None,
        "summary": _fr_text(entry.get("summary")),
        "content": content.get("body"),  # (its ``src`` is also set to an xml:base)
    }


# ---- feedparser ---------------------------------------------------------------------

_HEADER = re.compile(r"^Header:\s+([^:]+):(.*)$", re.MULTILINE)
_DESCRIPTION = re.compile(r"Description:\s*(.*?)\s*Expect:\s*(.*?)\s*-->", re.DOTALL)


def feedparser_cases(mirror: Mirror, out: Path) -> Iterator[Case]:
    """feedparser's well-formed and ill-formed documents: each one's ``Expect:`` line, kept
    only for its conditions (``==`` between a field and a literal) on the fields compared."""
    for under in FEEDPARSER_DIRS:
        for path in mirror.files(under):
            if not path.endswith(".xml") or any(skip in path for skip in FEEDPARSER_SKIP):
                continue
            raw = mirror.read(path)
            text = raw.decode("utf-8", "ignore")
            found = _DESCRIPTION.search(text)
            headers = dict(_HEADER.findall(text))
            content_type = headers.pop("Content-type", "").strip()
            if not found or headers:
                continue  # other HTTP headers (Content-Location...) are not ours to model
            feed, entries = _fp_conditions(found.group(2))
            if feed or entries:
                case = _case("feedparser", mirror, out, path, feed, entries, complete=False)
                # the URL feedparser's own test suite serves each document at
                case["feed_url"] = f"http://127.0.0.1:8097/{path}"
                case["content_type"] = content_type
                yield case


def _fp_conditions(expect: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``field == literal`` conditions of an Expect line on the fields compared."""
    try:
        tree = ast.parse(expect, mode="eval").body
    except SyntaxError:
        return {}, []
    conditions = tree.values if isinstance(tree, ast.BoolOp) else [tree]
    if isinstance(tree, ast.BoolOp) and not isinstance(tree.op, ast.And):
        return {}, []
    feed: dict[str, Any] = {}
    entries: dict[int, dict[str, Any]] = {}
    for condition in conditions:
        found = _fp_condition(condition)
        if found is None:
            continue
        scope, field, value = found
        target = feed if scope is None else entries.setdefault(scope, {})
        target[field] = value
    if not entries:
        return feed, []
    return feed, [entries.get(i, {}) for i in range(max(entries) + 1)]


def _fp_condition(node: ast.expr) -> tuple[int | None, str, Any] | None:
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    if not isinstance(node.ops[0], ast.Eq):
        return None
    path = _subscripts(node.left)
    if path is None:
        return None
    try:
        value = ast.literal_eval(node.comparators[0])
    except (ValueError, SyntaxError, TypeError):
        return None
    if path[:1] == ("feed",) and path[1:] in FP_FEED:
        return None, FP_FEED[path[1:]], value
    if path[:1] == ("entries",) and isinstance(path[1], int) and path[2:] in FP_ENTRY:
        field = FP_ENTRY[path[2:]]
        return path[1], *_fp_value(field, value)
    return None


def _fp_value(field: str, value: Any) -> tuple[str, Any]:
    """A feedparser value in the shared shape (dates as RFC 3339 UTC, authors as dicts)."""
    if field in ("published", "updated", "created"):
        if isinstance(value, tuple) and len(value) >= 6:
            at = _stamp(datetime(*value[:6], tzinfo=UTC))
            return field, {"at": at, "raw": None}
        return field, {"at": None, "raw": None}
    if field == "author":
        return "author", {"name": value}
    if field == "author_raw":
        return "author", {"raw": value}
    return field, value


def _subscripts(node: ast.expr) -> tuple[Any, ...] | None:
    """``entries[0]['title']`` as ('entries', 0, 'title'); None for anything else."""
    parts: list[Any] = []
    while isinstance(node, ast.Subscript):
        if not isinstance(node.slice, ast.Constant):
            return None
        parts.append(node.slice.value)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return tuple(reversed(parts))


def feedparser_date_cases(mirror: Mirror, out: Path) -> Iterator[Case]:
    """feedparser's date-parser table (``tests/test_date_parsers.py``): each date string with
    the UTC time it expects (or None), read from the table's literals. Each string is
    parsed by newswatch inside a one-item RSS 2.0 document's ``<pubDate>`` (written to
    ``files/``), so it goes through ``parse_feed`` like any feed."""
    tree = ast.parse(mirror.read("tests/test_date_parsers.py"))
    rows = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple) and len(node.elts) == 3:
            first, text, expected = node.elts
            if isinstance(first, ast.Name) and first.id.startswith("_parse_date"):
                try:
                    rows.append((first.id, ast.literal_eval(text), ast.literal_eval(expected)))
                except ValueError:
                    continue
    for number, (parser, text, expected) in enumerate(rows):
        if not isinstance(text, str) or not text:
            continue
        name = f"dates/{number:03d}_{parser.removeprefix('_parse_date_')}.xml"
        body = _date_document(text)
        target = out / "files" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        at = None
        if expected is not None:
            at = _stamp(datetime(*expected[:6], tzinfo=UTC))
        entry = {"published": {"at": at, "raw": text}}
        yield {
            "name": f"test_date_parsers.py#{number} {text!r}", "file": f"files/{name}",
            "source": "tests/test_date_parsers.py", "feed_url": "https://peers.example/dates",
            "content_type": "", "complete": False, "feed": {}, "entries": [entry],
        }  # fmt: skip


def _date_document(text: str) -> bytes:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>dates'
        '</title><item><title>d</title><guid isPermaLink="false">d</guid>'
        f"<pubDate>{escaped}</pubDate></item></channel></rss>\n"
    ).encode()


# ---- reader -------------------------------------------------------------------------


def reader_cases(mirror: Mirror, out: Path) -> Iterator[Case]:
    """reader's parser fixtures (``tests/data/NAME`` with ``NAME.py``): its whole expected
    ``FeedData`` and ``EntryData``, read from the literal keyword arguments of those calls
    (its ``url_base`` and ``rel_base`` are the folder of the feed URL)."""
    files = set(mirror.files("tests/data"))
    for path in sorted(files):
        if path.endswith(".py") or f"{path}.py" not in files:
            continue
        base = f"https://peers.example/reader/{path.rpartition('/')[0]}/"
        calls = _reader_calls(mirror.read(f"{path}.py"), base)
        feeds = [kwargs for name, kwargs in calls if name == "FeedData"]
        if not feeds:
            continue
        entries = [_rd_entry(kwargs) for name, kwargs in calls if name == "EntryData"]
        feed = {"title": feeds[0].get("title"), "link": feeds[0].get("link")}
        yield _case("reader", mirror, out, path, feed, entries, complete=True)


def _reader_calls(source: bytes, base: str) -> list[tuple[str, dict[str, Any]]]:
    calls = []
    for node in ast.walk(ast.parse(source)):
        is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if is_call and node.func.id in ("FeedData", "EntryData"):
            kwargs = {k.arg: _rd_value(k.value, base) for k in node.keywords if k.arg}
            calls.append((node.func.id, kwargs))
    return calls


def _rd_value(node: ast.expr, base: str) -> Any:
    """A literal, an f-string over ``url_base``/``rel_base``, a ``datetime.datetime(...)``,
    a tuple of ``Author``/``Content`` calls as dicts; None for anything else."""
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
                if value.value.id not in ("url_base", "rel_base"):
                    return None
                parts.append(base)
            else:
                return None
        return "".join(parts)
    if isinstance(node, ast.Call):
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name == "datetime":
            args = [ast.literal_eval(a) for a in node.args]
            return _stamp(datetime(*args, tzinfo=UTC))
        return {k.arg: _rd_value(k.value, base) for k in node.keywords if k.arg}
    if isinstance(node, ast.Tuple | ast.List):
        return [_rd_value(e, base) for e in node.elts]
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _rd_entry(kwargs: dict[str, Any]) -> dict[str, Any]:
    authors = kwargs.get("authors") or []
    contents = [c for c in kwargs.get("content") or [] if isinstance(c, dict)]
    values = [str(c.get("value", "")) for c in contents]
    return {
        "title": kwargs.get("title"),
        "link": kwargs.get("link") if isinstance(kwargs.get("link"), str) else None,
        "id": kwargs.get("id"),
        "author": _author_list(authors),
        "content_parts": values if len(values) > 1 else None,
        "published": {"at": kwargs["published"], "raw": None} if kwargs.get("published")
        else None,
        "updated": {"at": kwargs["updated"], "raw": None} if kwargs.get("updated") else None,
        "summary": kwargs.get("summary"),
        "content": "\n".join(values) or None,
    }  # fmt: skip


# ---- output -------------------------------------------------------------------------


def _case(
    project: str,
    mirror: Mirror,
    out: Path,
    path: str,
    feed: dict[str, Any],
    entries: list[dict[str, Any]],
    *,
    complete: bool,
) -> Case:
    """One fixture: its document copied under ``files/``, its expectations."""
    target = out / "files" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(mirror.read(path))
    return {
        "name": path, "file": f"files/{path}", "source": path,
        "feed_url": f"https://peers.example/{project}/{path}",
        "content_type": "application/json" if path.endswith(".json") else "",
        "complete": complete, "feed": feed, "entries": entries,
    }  # fmt: skip


COLLECTORS: dict[str, list[Callable[[Mirror, Path], Iterator[Case]]]] = {
    "gofeed": [gofeed_cases],
    "feed-rs": [feedrs_cases],
    "feedparser": [feedparser_cases, feedparser_date_cases],
    "reader": [reader_cases],
}


def collect(mirrors: Path, out: Path) -> None:
    for project, collectors in COLLECTORS.items():
        name, url, license_name, license_path = REPOS[project]
        mirror = Mirror(mirrors, name)
        target = out / project
        cases = [case for collector in collectors for case in collector(mirror, target)]
        document = {"project": project, "repository": url, "commit": mirror.commit,
                    "license": license_name, "cases": cases}  # fmt: skip
        (target / "cases.json").write_text(json.dumps(document, indent=1, ensure_ascii=False))
        notice = (
            f"Test fixtures of {url} (commit {mirror.commit}), copied for newswatch's\n"
            f"comparison bench (bench/peer_fixtures.py); cases.json restates their expected\n"
            f"values. License: {license_name}, as follows ({license_path}):\n\n"
        )
        (target / "NOTICE").write_text(notice + mirror.read(license_path).decode())
        print(f"{project}: {len(cases)} cases from {url} at {mirror.commit[:12]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / ".peers")
    args = parser.parse_args()
    collect(args.mirrors, args.out)


if __name__ == "__main__":
    main()
