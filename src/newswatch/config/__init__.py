"""Configuration: YAML -> validated, frozen ``Settings``; every error with file:line:column."""

from newswatch.config.checks import Check, ValueProblem
from newswatch.config.fields import PostgresUrl, parse_database
from newswatch.config.loader import load_config, loads_config
from newswatch.config.opml import merge_feeds, opml_document, read_opml
from newswatch.config.paths import resolve_database
from newswatch.config.schema import (
    AppriseDestination,
    ConsoleDestination,
    Destination,
    EmailDestination,
    FeedSettings,
    HealthSettings,
    MetricsSettings,
    PollSettings,
    Rate,
    Settings,
    SlackDestination,
    StorySettings,
    WatchSettings,
    WebhookDestination,
    parse_duration,
    parse_rate,
    parse_size,
)
from newswatch.config.summary import describe, describe_records, format_duration, format_size
from newswatch.config.yamldoc import MAX_NODES, substitute_env

__all__ = [
    "MAX_NODES",
    "AppriseDestination",
    "Check",
    "ConsoleDestination",
    "Destination",
    "EmailDestination",
    "FeedSettings",
    "HealthSettings",
    "MetricsSettings",
    "PollSettings",
    "PostgresUrl",
    "Rate",
    "Settings",
    "SlackDestination",
    "StorySettings",
    "ValueProblem",
    "WatchSettings",
    "WebhookDestination",
    "describe",
    "describe_records",
    "format_duration",
    "format_size",
    "load_config",
    "loads_config",
    "merge_feeds",
    "opml_document",
    "parse_database",
    "parse_duration",
    "parse_rate",
    "parse_size",
    "read_opml",
    "resolve_database",
    "substitute_env",
]
