"""Settings that would otherwise fail later, refused at load with their file:line:column:
non-ASCII mail addresses, an unloadable private CA, `verify`, poll intervals under 1 s."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.config import EmailDestination, load_config
from newswatch.errors import ConfigError
from support.receivers import Certificates, make_certificates

EMAIL = """\
destinations:
  - name: mail
    type: email
    to: [analyst@example.org]
    from: newswatch@example.org
    host: smtp.example.org
"""


def problems_of(path: Path) -> list[str]:
    """``PATH:LINE:COLUMN: message`` of every problem loading the file at ``path``."""
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    return [f"{p.path}:{p.line}:{p.column}: {p.message}" for p in info.value.problems]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watchlist.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_non_ascii_sender_is_a_located_error(tmp_path: Path) -> None:
    """A sender that would need SMTPUTF8 is refused at its file:line:column."""
    path = write(tmp_path, EMAIL.replace("from: newswatch@", "from: новости@"))
    assert problems_of(path) == [
        f"{path}:5:11: destination 'mail': from: 'новости@example.org' has non-ASCII "
        "characters: use an ASCII mailbox and the domain's ASCII form (xn--…); newswatch "
        "does not send SMTPUTF8 mail"
    ]


def test_non_ascii_recipient_domain_is_a_located_error(tmp_path: Path) -> None:
    """An IDN recipient domain must be written in its xn-- form."""
    path = write(tmp_path, EMAIL.replace("to: [analyst@example.org]", "to: [a@bücher.de]"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:4:10: destination 'mail': to item 1: 'a@bücher.de' has")


def test_verify_false_is_refused_with_the_way_out(tmp_path: Path) -> None:
    """``verify: false`` is not offered; the error names tls_ca_file instead."""
    path = write(tmp_path, EMAIL + "    verify: false\n")
    assert problems_of(path) == [
        f"{path}:7:5: destination 'mail': unknown key 'verify': certificate checks cannot be "
        "turned off; for a private CA, give its certificates as tls_ca_file: /path/to/ca.pem"
    ]


def test_tls_ca_file_resolves_against_the_config_folder(tmp_path: Path) -> None:
    """A relative tls_ca_file is read next to the configuration file."""
    certs: Certificates = make_certificates(tmp_path)
    path = write(tmp_path, EMAIL + f"    tls_ca_file: {certs.ca_file.name}\n")
    (dest,) = load_config(path, {}).destinations
    assert isinstance(dest, EmailDestination)
    assert dest.tls_ca_file == tmp_path / "ca.pem"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "No such file or directory"), ("not a certificate\n", "")],
    ids=["missing", "not PEM"],
)
def test_unloadable_tls_ca_file_is_a_located_error(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    """A tls_ca_file that cannot be loaded is reported where it is written."""
    if content is not None:
        (tmp_path / "ca.pem").write_text(content)
    path = write(tmp_path, EMAIL + "    tls_ca_file: ca.pem\n")
    (problem,) = problems_of(path)
    assert problem.startswith(
        f"{path}:7:18: destination 'mail': tls_ca_file: cannot load CA certificates from "
        f"{tmp_path / 'ca.pem'}: {reason}"
    )
    assert problem.endswith("(give a PEM file of the CA that signed the server's certificate)")


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (
            "poll",
            "5ms",
            "2:13: poll.interval: interval '5ms' is shorter than 1s: did you mean '5m'?",
        ),
        ("poll", "0.5s", "2:13: poll.interval: interval '0.5s' is shorter than 1s"),
    ],
)
def test_interval_under_a_second_is_an_error(
    tmp_path: Path, where: str, value: str, message: str
) -> None:
    """A poll interval under 1 s is refused (a 5ms typo for 5m is not kept)."""
    path = write(tmp_path, f"{where}:\n  interval: {value}\n")
    assert problems_of(path) == [f"{path}:{message}"]


def test_feed_interval_under_a_second_is_an_error(tmp_path: Path) -> None:
    """The same holds for a feed's own interval."""
    path = write(tmp_path, "feeds:\n  - url: https://example.org/rss\n    interval: 100ms\n")
    (problem,) = problems_of(path)
    assert problem == (
        f"{path}:3:15: feed 1: interval: interval '100ms' is shorter than 1s: did you mean '100m'?"
    )
