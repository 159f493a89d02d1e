"""The watchlist engine: normalization, compiled watches, matching (pure: no I/O)."""

from newswatch.match.engine import Watchlist, compile_watchlist
from newswatch.match.normalize import fold, normalize

__all__ = ["Watchlist", "compile_watchlist", "fold", "normalize"]
