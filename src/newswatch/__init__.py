"""newswatch: a news-monitoring alert daemon.

Polls RSS, Atom and JSON feeds, matches new articles against a YAML watchlist,
remembers what it has seen in SQLite and alerts once per story.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newswatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
