"""The destinations of ``watchlist.yaml`` (SPEC §5): one model per type, and what every type
shares (rate, burst, digests, retries)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    field_validator,
)

from newswatch.config.fields import (
    Duration,
    HttpUrl,
    Name,
    Rate,
    RateLimit,
    Template,
    WholeNumber,
    _Strict,
    check_http_url,
)


class _Delivery(_Strict):
    """How alerts are delivered to a destination: shared by every destination type.

    ``rate`` caps messages per period; when more than ``burst`` alerts wait at once, they
    go as digests (one message per watch); ``digest`` batches every watch's alerts for a
    period; a failed delivery is retried after ``backoff`` (doubling, up to an hour) until
    ``max_attempts`` attempts failed or it has waited longer than ``max_age``.
    """

    rate: RateLimit = None
    burst: WholeNumber | None = Field(default=None, ge=1, le=100_000)
    digest: Duration | None = None
    max_attempts: WholeNumber = Field(default=12, ge=1, le=1000)
    max_age: Duration = timedelta(hours=24)
    backoff: Duration = timedelta(seconds=30)


class SlackDestination(_Delivery):
    """A Slack incoming webhook; its URL is the credential."""

    name: Name
    type: Literal["slack"]
    url: SecretStr
    rate: RateLimit = Rate(1, timedelta(seconds=1))  # Slack's own limit
    burst: WholeNumber | None = Field(default=10, ge=1, le=100_000)
    template: Template | None = None

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, v: SecretStr) -> SecretStr:
        check_http_url(v.get_secret_value())
        return v


class WebhookDestination(_Delivery):
    """Any HTTP endpoint that takes a JSON POST."""

    name: Name
    type: Literal["webhook"]
    url: HttpUrl
    secret: SecretStr | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)


def _mail_address(value: str) -> str:
    """An ASCII ``mailbox@domain``: newswatch does not speak SMTPUTF8, so an address that
    needs it would fail on every send; it is refused here, where it can be fixed."""
    if not value.isascii():
        raise ValueError(
            f"'{value}' has non-ASCII characters: use an ASCII mailbox and the domain's "
            "ASCII form (xn--…); newswatch does not send SMTPUTF8 mail"
        )
    return value


MailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$"), AfterValidator(_mail_address)]


class EmailDestination(_Delivery):
    """SMTP delivery."""

    name: Name
    type: Literal["email"]
    to: tuple[MailAddress, ...] = Field(min_length=1)
    sender: MailAddress = Field(alias="from")
    host: Name
    port: WholeNumber | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    # A private CA's certificates (PEM), relative to the config file; certificate and
    # host name checks stay on: there is no way to turn them off.
    tls_ca_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    timeout: Duration = timedelta(seconds=30)
    burst: WholeNumber | None = Field(default=10, ge=1, le=100_000)
    subject_template: Template | None = None
    text_template: Template | None = None
    html_template: Template | None = None

    @property
    def effective_port(self) -> int:
        """The configured port, else the usual one for ``security``."""
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]


class ConsoleDestination(_Delivery):
    """Prints alerts to standard output."""

    name: Name
    type: Literal["console"]
    template: Template | None = None


def _apprise_url(value: SecretStr) -> SecretStr:
    """A URL the apprise library can use (checked by apprise itself; imports it)."""
    from newswatch.config.appriseurls import apprise_problem

    problem = apprise_problem(value.get_secret_value())
    if problem is not None:
        raise ValueError(problem)
    return value


AppriseUrl = Annotated[SecretStr, AfterValidator(_apprise_url)]


class AppriseDestination(_Delivery):
    """Any service the apprise library reaches (Telegram, Discord, ntfy, Matrix, Teams...):
    one notification per alert or digest to every URL; the URLs are credentials."""

    name: Name
    type: Literal["apprise"]
    urls: tuple[AppriseUrl, ...] = Field(min_length=1)
    format: Literal["text", "markdown", "html"] = "text"
    timeout: Duration = timedelta(seconds=30)


Destination = Annotated[
    SlackDestination
    | WebhookDestination
    | EmailDestination
    | ConsoleDestination
    | AppriseDestination,
    Field(discriminator="type"),
]
