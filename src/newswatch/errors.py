"""The newswatch exception tree.

    NewswatchError                 everything newswatch raises on purpose
     ├── ConfigError               invalid configuration; carries every problem found
     ├── ParseError                a fetched body is not a usable feed
     ├── StoreError                the database refused an operation
     └── DeliveryError             a destination did not accept an alert
          ├── TransientDeliveryError   try again later (retry_after, if the peer said)
          └── PermanentDeliveryError   retrying cannot help (400/404, bad address...)

Errors are chained with ``raise ... from`` and carry the feed, destination or url
they concern. A feed server's misbehaviour is not an exception: ``fetch`` classifies it
into a ``FetchResult`` that the pipeline records as feed state. Exit codes are decided
in ``cli`` only.
"""

from __future__ import annotations

from dataclasses import dataclass


class NewswatchError(Exception):
    """Base class of every error newswatch raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a configuration file, with its location (1-based); ``excerpt`` is
    the offending line with a caret under the spot, when there is one to point at."""

    path: str
    line: int
    column: int
    message: str
    excerpt: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}: {self.message}"
        return f"{where}\n{self.excerpt}" if self.excerpt else where


@dataclass(frozen=True, slots=True)
class ValueProblem:
    """A problem with the value at ``loc`` of a configuration (as pydantic's: keys and
    list indexes); ``offset`` is where in the value's text, if the problem has a spot.
    The loader locates it in the file and makes a :class:`ConfigProblem` of it. (Here, not
    in ``config``, so that ``match`` reports its problems without importing the whole
    configuration layer into the worker processes.)"""

    loc: tuple[str | int, ...]
    message: str
    offset: int | None = None


class ConfigError(NewswatchError):
    """The configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line, p.column))
        super().__init__("\n".join(str(p) for p in self.problems))


class ParseError(NewswatchError):
    """A fetched body is not a usable feed."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class StoreError(NewswatchError):
    """The database refused an operation."""


class DeliveryError(NewswatchError):
    """A destination did not accept an alert."""

    def __init__(self, message: str, *, destination: str = "") -> None:
        super().__init__(message)
        self.destination = destination


class TransientDeliveryError(DeliveryError):
    """The destination may accept the alert later; ``retry_after`` is in seconds."""

    def __init__(
        self, message: str, *, destination: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, destination=destination)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the request itself is wrong (bad address, 400/404...)."""
