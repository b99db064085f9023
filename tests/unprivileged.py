"""`@pytest.mark.unprivileged`: a test that only means something without root's privileges.

A chmod-000 file is "permission denied" and a read-only folder refuses writes only to a process
that cannot override file permissions: root reads and writes through both, so run as root (as CI
runs) such a test would pass without testing anything, or would have to be skipped. When the
suite runs with those privileges, a test with this mark runs again in a child pytest that has none
(every capability dropped from its bounding set, no new privileges: `setpriv`, part of util-linux,
which every Debian has), and passes, fails or skips as the child does, its output shown on
failure; without them it runs as is.

Why not the user `nobody`: the interpreter may live where only root can reach it (here, pyenv
under /root, mode 700), while a process without capabilities is refused by file permissions as
any ordinary user is, wherever its interpreter lives; and the test still creates its files as
itself, so "owner without read permission" is what it meets. The child gets a temporary folder of
its own for HOME, TMPDIR, the XDG folders and pytest's `--basetemp`, and writes nothing in the
checkout (no bytecode, no pytest cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CHILD_TIMEOUT_S = 600
# What lets a process read, search and write past file permissions (capabilities 1 and 2).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def privileged() -> bool:
    """This process can override file permissions (root, or a capability): marked tests run in a child."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return hasattr(os, "geteuid") and os.geteuid() == 0
    (effective,) = [int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:")]
    return bool(effective & (1 << CAP_DAC_OVERRIDE | 1 << CAP_DAC_READ_SEARCH))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run in a child, a marked test's own timeout is the child's; the parent waits for the child."""
    if privileged():
        for item in items:
            if item.get_closest_marker("unprivileged") is not None:
                item.add_marker(pytest.mark.timeout(CHILD_TIMEOUT_S + 60), append=False)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if pyfuncitem.get_closest_marker("unprivileged") is None or not privileged():
        return None
    run_unprivileged(pyfuncitem.nodeid, pyfuncitem.config.rootpath)
    return True


def run_unprivileged(nodeid: str, rootpath: Path) -> None:
    """Run one test in a child pytest without capabilities; pass, fail or skip as it does."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("setpriv (util-linux) is needed to drop root's privileges", pytrace=False)
    home = Path(tempfile.mkdtemp(prefix="triage-unprivileged-"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "XDG_", "PYTEST_"))}
        env.update(
            HOME=str(home),
            TMPDIR=str(home),
            XDG_CACHE_HOME=str(home / "cache"),
            XDG_STATE_HOME=str(home / "state"),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_DATA_HOME=str(home / "data"),
            PYTHONDONTWRITEBYTECODE="1",
        )
        child = subprocess.run(
            [
                setpriv,
                "--bounding-set=-all",
                "--inh-caps=-all",
                "--no-new-privs",
                "--",
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-rs",
                "-p",
                "no:cacheprovider",
                f"--basetemp={home / 'pytest'}",
                nodeid,
            ],
            cwd=rootpath,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    output = child.stdout + child.stderr
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    if child.returncode != 0:
        pytest.fail(f"without privileges (exit {child.returncode}):\n{output[-8000:]}", pytrace=False)
    if " passed" not in summary:
        reasons = [line for line in output.splitlines() if line.startswith("SKIPPED")]
        pytest.skip(f"without privileges: {'; '.join(reasons) or summary}")
