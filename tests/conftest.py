"""Fixtures every test module may use (the session's PostgreSQL server)."""

pytest_plugins = ["support.postgres", "support.engines"]
