"""The systemd unit in deploy/systemd: its directives, and systemd's own verdict on it.

The systemd-analyze tests are defined only when the tool is installed (a parametrize over
an empty list would be reported as skipped); the pure-Python checks always run.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "systemd" / "newswatch.service"
ENV_EXAMPLE = ROOT / "deploy" / "systemd" / "newswatch.env.example"
DROP_IN = ROOT / "deploy" / "systemd" / "credentials.conf.example"
BINARY = "/opt/newswatch/venv/bin/newswatch"
MAX_EXPOSURE = 2.0
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """Parse a unit file into section -> key -> every value assigned, in order.

    Like configparser with strict=False, but keeping repeated keys (systemd accumulates
    SystemCallFilter= and friends instead of overwriting them).
    """
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None, f"assignment outside a section: {line}"
        assert not line.endswith("\\"), f"continuation lines are not expected: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not an assignment: {line}"
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    """The [Service] section of the shipped unit."""
    return parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]


def test_parse_unit_keeps_repeated_keys() -> None:
    """The test parser keeps every value of a repeated key, in order."""
    unit = parse_unit("[Service]\n# c\nA=1\nA=2\n\n[Install]\nB = x=y\n")
    assert unit == {"Service": {"A": ["1", "2"]}, "Install": {"B": ["x=y"]}}


def test_exec_start_runs_daemon_with_etc_config(service: dict[str, list[str]]) -> None:
    """ExecStart runs `newswatch --config /etc/newswatch/watchlist.yaml run` from the venv."""
    assert [shlex.split(v) for v in service["ExecStart"]] == [
        [BINARY, "--config", "/etc/newswatch/watchlist.yaml", "run"]
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("WatchdogSec", "60"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("Restart", "on-failure"),
        ("RestartPreventExitStatus", "2"),
        ("TimeoutStopSec", "20"),
        ("KillMode", "mixed"),
        ("DynamicUser", "yes"),
        ("StateDirectory", "newswatch"),
        ("ConfigurationDirectory", "newswatch"),
        ("EnvironmentFile", "-/etc/newswatch/newswatch.env"),
        ("UMask", "0077"),
    ],
)
def test_service_directive(service: dict[str, list[str]], key: str, value: str) -> None:
    """The unit sets each directive the daemon's contract relies on, exactly once."""
    assert service.get(key) == [value]


def test_restart_has_a_delay(service: dict[str, list[str]]) -> None:
    """RestartSec is set, so a crash loop does not spin."""
    assert len(service.get("RestartSec", [])) == 1


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("PrivateUsers", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectProc", "invisible"),
        ("ProcSubset", "pid"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("RestrictNamespaces", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("RestrictRealtime", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("SystemCallArchitectures", "native"),
    ],
)
def test_hardening_directive(service: dict[str, list[str]], key: str, value: str) -> None:
    """The hardening block sets each sandboxing directive."""
    assert service.get(key) == [value]


def test_system_call_filter(service: dict[str, list[str]]) -> None:
    """System calls: the @system-service allow list minus @privileged and @resources."""
    assert service.get("SystemCallFilter") == ["@system-service", "~@privileged @resources"]


def test_installed_for_multi_user() -> None:
    """`systemctl enable` hooks the unit into multi-user.target."""
    unit = parse_unit(UNIT.read_text(encoding="utf-8"))
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_credentials_drop_in_execs_the_same_command() -> None:
    """The credentials drop-in resets ExecStart and execs the unit's own command via sh."""
    unit_cmd = parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]["ExecStart"][0]
    drop_in = parse_unit(DROP_IN.read_text(encoding="utf-8"))["Service"]
    reset, wrapper = drop_in["ExecStart"]
    argv = shlex.split(wrapper)
    assert reset == ""
    assert argv[:2] == ["/bin/sh", "-c"]
    assert argv[2].endswith(f"&& exec {unit_cmd}")


def test_credentials_drop_in_exports_each_credential() -> None:
    """Every LoadCredential= of the drop-in is read into a variable by the wrapper."""
    drop_in = parse_unit(DROP_IN.read_text(encoding="utf-8"))["Service"]
    names = [value.partition(":")[0] for value in drop_in["LoadCredential"]]
    assert names
    for name in names:
        assert f'="$$(cat %d/{name})"' in drop_in["ExecStart"][1]


def test_env_example_is_plain_assignments() -> None:
    """Every non-comment line of the env example is NAME=value, as EnvironmentFile= reads it."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    assignments = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    assert assignments
    for line in assignments:
        assert re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S.*", line), line


def exposure(output: str) -> float:
    """The overall exposure score from `systemd-analyze security` output."""
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", output)
    assert found, output
    return float(found.group(1))


def test_exposure_parser() -> None:
    """The score parser reads the number from systemd-analyze's summary line."""
    line = "→ Overall exposure level for newswatch.service: 1.1 OK 🙂"
    assert exposure(f"  NAME  DESCRIPTION\n{line}\n") == 1.1


def test_exposure_parser_rejects_other_output() -> None:
    """Output without a summary line fails loudly instead of passing."""
    with pytest.raises(AssertionError):
        exposure("Failed to load unit\n")


if SYSTEMD_ANALYZE:
    TOOL: str = SYSTEMD_ANALYZE

    def run_analyze(*args: str) -> subprocess.CompletedProcess[str]:
        """Run systemd-analyze with ``args``, capturing text output."""
        return subprocess.run(
            [TOOL, "--no-pager", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=120,
            check=False,
        )

    def test_security_exposure_at_most_2() -> None:
        """systemd-analyze security rates the unit's exposure at most 2.0 ("OK" or better)."""
        result = run_analyze("security", "--offline=true", str(UNIT))
        assert result.returncode == 0, result.stderr
        assert exposure(result.stdout) <= MAX_EXPOSURE

    def install_stubbed(tmp_path: Path, *drop_ins: Path) -> Path:
        """Copy the unit (and drop-ins) to tmp_path with the binary swapped for a stub."""
        stub = tmp_path / "newswatch"
        stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        stub.chmod(0o755)
        unit = tmp_path / "newswatch.service"
        unit.write_text(UNIT.read_text(encoding="utf-8").replace(BINARY, str(stub)))
        conf_dir = tmp_path / "newswatch.service.d"
        conf_dir.mkdir()
        for drop_in in drop_ins:
            text = drop_in.read_text(encoding="utf-8").replace(BINARY, str(stub))
            (conf_dir / drop_in.name.removesuffix(".example")).write_text(text)
        return unit

    def verify_problems(unit: Path) -> list[str]:
        """What systemd-analyze verify says about our unit (lines naming other units dropped)."""
        result = run_analyze("verify", "--man=no", str(unit))
        assert result.returncode == 0, result.stderr
        return [ln for ln in result.stderr.splitlines() if "newswatch" in ln]

    def test_verify_reports_nothing(tmp_path: Path) -> None:
        """systemd-analyze verify finds no problem in the unit (binary path swapped for a stub)."""
        assert verify_problems(install_stubbed(tmp_path)) == []

    def test_verify_credentials_drop_in(tmp_path: Path) -> None:
        """systemd-analyze verify accepts the unit with the credentials drop-in installed."""
        assert verify_problems(install_stubbed(tmp_path, DROP_IN)) == []

    def test_credentials_drop_in_keeps_exposure(tmp_path: Path) -> None:
        """The credentials drop-in does not weaken the unit's exposure score."""
        unit = install_stubbed(tmp_path, DROP_IN)
        result = run_analyze("security", "--offline=true", str(unit))
        assert result.returncode == 0, result.stderr
        assert exposure(result.stdout) <= MAX_EXPOSURE


MDWE_PROBE = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit(3)  # the kernel has no MDWE (before Linux 6.3)
from newswatch import cluster
from newswatch.models import Article
from newswatch.parse import parse_feed
feed = parse_feed(
    b"<rss version='2.0'><channel><title>t</title><item><guid>1</guid><title>Minsk</title>"
    b"<description>&lt;p&gt;" + b" ".join(b"word%d" % i for i in range(80)) + b"&lt;/p&gt;"
    b"</description></item></channel></rss>",
    feed_url="https://x.example/rss", content_type="application/rss+xml",
)
assert cluster.signature(feed.articles[0]).keys, "no story keys"
print("ok")
"""


def test_native_parts_run_with_memory_deny_write_execute() -> None:
    """What ``MemoryDenyWriteExecute=yes`` asks of the process (no memory made executable
    after the fact: the kernel's MDWE, the same rule) holds for the native parts on the hot
    path: lxml, selectolax and rensa parse and sign a feed under it."""
    result = subprocess.run(
        [sys.executable, "-c", MDWE_PROBE], capture_output=True, text=True, timeout=60
    )
    if result.returncode == 3:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux < 6.3)")
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
