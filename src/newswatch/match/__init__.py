"""The watchlist engine: query language, normalization, inflection, compiled matcher (pure)."""

from newswatch.match.engine import (
    Watchlist,
    WatchlistError,
    WatchSpec,
    check_watchlist,
    compile_watches,
    compile_watchlist,
)
from newswatch.match.explain import WatchReport, format_reports
from newswatch.match.explain import explain as explain_text
from newswatch.match.normalize import fold, normalize
from newswatch.match.query import QueryError

__all__ = [
    "QueryError",
    "WatchReport",
    "WatchSpec",
    "Watchlist",
    "WatchlistError",
    "check_watchlist",
    "compile_watches",
    "compile_watchlist",
    "explain_text",
    "fold",
    "format_reports",
    "normalize",
]
