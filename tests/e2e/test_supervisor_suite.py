"""Supervisor 4.3.0's own end-to-end suite (``supervisor/tests/test_end_to_end.py``), run
unmodified against vigil's commands.

The suite starts ``python -m supervisor.supervisord`` (and ``supervisorctl``, ``pidproxy``,
``confecho``) under pexpect and imports its helpers and fixtures from the ``supervisor``
package. The package in ``shim/`` answers those command modules with vigil's and lends the
rest from the installed Supervisor (see ``shim/supervisor/__init__.py``). The suite runs
twice: with Supervisor's supervisorctl as the client of vigil's daemon, and with vigil's.

The test file and fixtures are read from the Supervisor installed by ``make supervisor-ref``;
they are copied (not changed) into a temporary directory only to add ``hello.sh``, which the
published package leaves out although ``issue-565.conf`` runs it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SUPERVISOR_VENV = REPO / ".venv-supervisor"
SHIM = HERE / "shim"
MISSING_FIXTURES = (HERE / "fixtures" / "hello.sh",)
SUITE = "supervisor.tests.test_end_to_end"
TESTS_IN_SUITE = 27
# The suite's fixtures use fixed paths under /tmp (/tmp/issue-835.sock ...), so two runs at
# once would share sockets: runs take this lock in turn.
LOCK = Path("/tmp/vigil-supervisor-end-to-end.lock")
# A whole run takes about half a minute; this bounds a run that hangs, on a loaded machine.
RUN_TIMEOUT = 420
REPORT_LIMIT = 20_000


def installed_supervisor() -> Path:
    found = sorted(SUPERVISOR_VENV.glob("lib/python*/site-packages/supervisor/tests"))
    if not found or not (found[-1] / "test_end_to_end.py").exists():
        pytest.fail(
            f"Supervisor 4.3.0 and its tests are missing from {SUPERVISOR_VENV}: "
            "run `make supervisor-ref`"
        )
    return found[-1].parent


def overlay_with_missing_fixtures(real: Path, where: Path) -> Path:
    """A directory whose ``tests`` package is Supervisor's, plus the fixtures it lacks."""
    tests = where / "tests"
    shutil.copytree(real / "tests", tests, ignore=shutil.ignore_patterns("__pycache__"))
    for fixture in MISSING_FIXTURES:
        target = tests / "fixtures" / fixture.name
        if not target.exists():
            shutil.copyfile(fixture, target)
    return where


@contextlib.contextmanager
def suite_lock() -> Iterator[None]:
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def suite_environment(real: Path, overlay: Path, ctl: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        END_TO_END="1",
        PYTHONPATH=str(SHIM),
        VIGIL_REAL_SUPERVISOR=str(real),
        VIGIL_SUPERVISOR_OVERLAY=str(overlay),
        VIGIL_E2E_CTL=ctl,
        # The fixtures run `python listener.py`: the interpreter that has vigil.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)]),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def unsuccessful(output: str) -> list[str]:
    """The names of the suite's tests that failed or erred, from unittest's report."""
    return sorted(set(re.findall(r"^(?:FAIL|ERROR): (\w+)", output, re.MULTILINE)))


def count_run(output: str) -> int:
    found = re.search(r"^Ran (\d+) tests? in ", output, re.MULTILINE)
    return int(found.group(1)) if found else 0


@pytest.mark.timeout(2 * RUN_TIMEOUT + 60)  # its own run, and waiting for the other one
@pytest.mark.parametrize("ctl", ["supervisor", "vigil"], ids=["supervisors-ctl", "vigils-ctl"])
def test_supervisors_end_to_end_suite_passes_against_vigil(ctl: str, tmp_path: Path) -> None:
    real = installed_supervisor()
    overlay = overlay_with_missing_fixtures(real, tmp_path / "overlay")
    with suite_lock():
        completed = subprocess.run(
            [sys.executable, "-m", "unittest", SUITE],
            cwd=tmp_path,
            env=suite_environment(real, overlay, ctl),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    report = completed.stdout + completed.stderr
    failed = unsuccessful(report)
    if len(report) > REPORT_LIMIT:  # pexpect describes every timeout at length
        report = "...\n" + report[-REPORT_LIMIT:]
    assert not failed, f"failed with {ctl}'s supervisorctl: {', '.join(failed)}\n{report}"
    assert count_run(report) == TESTS_IN_SUITE, report
    assert completed.returncode == 0, report
