"""``SQLiteStore``: the :class:`~newswatch.store.protocol.Store` on one SQLite file: the
SQLite ``Base`` (the connection, ``write()``) with the engine-independent ``StoreFront``.
"""

from __future__ import annotations

from newswatch.store.base import Base
from newswatch.store.front import StoreFront


class SQLiteStore(StoreFront, Base):
    """The database. Not thread-safe: one thread uses one SQLiteStore (``AsyncStore``
    gives asyncio a dedicated thread for it)."""
