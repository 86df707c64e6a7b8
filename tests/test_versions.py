"""Each command's --version names the distribution to install (the name "vigil" on the package
index is another project's) and the Supervisor release it speaks for; what scripts read from
the daemon (`supervisorctl version`, getSupervisorVersion) stays Supervisor's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vigil import DISTRIBUTION, __version__

BIN = Path(sys.executable).parent
EXPECTED = f"vigil-supervisor {__version__} (Supervisor 4.3.0 compatible)\n"


@pytest.mark.parametrize(
    "command", ["supervisord", "supervisorctl", "echo_supervisord_conf", "pidproxy"]
)
def test_every_command_says_its_distribution_and_version(command: str) -> None:
    done = subprocess.run(
        [str(BIN / command), "--version"], capture_output=True, text=True, timeout=60
    )
    assert (done.stdout, done.stderr, done.returncode) == (EXPECTED, "", 0)


def test_the_distribution_is_the_installed_one() -> None:
    from importlib.metadata import version

    assert DISTRIBUTION == "vigil-supervisor"
    assert version(DISTRIBUTION) == __version__


def test_supervisorctl_help_stays_supervisors() -> None:
    done = subprocess.run(
        [str(BIN / "supervisorctl"), "-h"], capture_output=True, text=True, timeout=60
    )
    assert "--version" not in done.stdout and done.returncode == 0
