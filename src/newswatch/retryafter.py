"""Moved to :mod:`newswatch.waits`; kept until the notify and fetch modules import it there."""

from newswatch.waits import MAX_RETRY_AFTER, http_date, parse_retry_after

__all__ = ["MAX_RETRY_AFTER", "http_date", "parse_retry_after"]
