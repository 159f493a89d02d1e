"""The watchlist engine: query language, normalization, inflection, compiled matcher (pure)."""

from newswatch.match.engine import Watchlist, WatchlistError, check_watchlist, compile_watchlist
from newswatch.match.normalize import fold, normalize
from newswatch.match.query import QueryError

__all__ = [
    "QueryError",
    "Watchlist",
    "WatchlistError",
    "check_watchlist",
    "compile_watchlist",
    "fold",
    "normalize",
]
