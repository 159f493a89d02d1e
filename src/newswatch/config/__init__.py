"""Configuration: YAML -> validated, frozen ``Settings``; every error with file:line:column."""

from newswatch.config.schema import (
    ConsoleDestination,
    Destination,
    EmailDestination,
    FeedSettings,
    HealthSettings,
    PollSettings,
    Settings,
    SlackDestination,
    WatchSettings,
    WebhookDestination,
    parse_duration,
    parse_size,
)

__all__ = [
    "ConsoleDestination",
    "Destination",
    "EmailDestination",
    "FeedSettings",
    "HealthSettings",
    "PollSettings",
    "Settings",
    "SlackDestination",
    "WatchSettings",
    "WebhookDestination",
    "parse_duration",
    "parse_size",
]
