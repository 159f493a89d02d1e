"""newswatch: a news-monitoring alert daemon.

Polls RSS, Atom and JSON feeds, matches new articles against a YAML watchlist,
remembers what it has seen in SQLite and alerts once per story.
"""

# The version, in one place (pyproject.toml reads it from here): importing
# importlib.metadata to look it up cost every process ~40 ms at start.
__version__ = "0.1.0"

__all__ = ["__version__"]
