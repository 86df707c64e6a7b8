"""``supervisorctl reload`` with a broken configuration file: vigil's supervisorctl has the
daemon read the file first (``reloadConfig``) and, when it cannot, prints the problems and
exits non-zero without restarting anything. Run against a daemon started the way users start
it (detached)."""

from __future__ import annotations

import xmlrpc.client
from pathlib import Path

from tests.ctl.harness import run_ctl
from tests.daemon.detached import DetachedDaemon, detached_daemon
from tests.support import wait_until

PROGRAMS = """
[program:one]
command=sleep 1000
startsecs=0

[program:two]
command=sleep 1000
startsecs=0
"""
# Two problems, so both must be listed.
BROKEN = """
[program:three]
command=sleep 1000
startsecs=soon
stopsignal=NOSUCHSIGNAL
"""


def _pids(daemon: DetachedDaemon) -> dict[str, int]:
    infos = daemon.rpc().supervisor.getAllProcessInfo()
    return {info["name"]: info["pid"] for info in infos if info["statename"] == "RUNNING"}


def _running(daemon: DetachedDaemon) -> dict[str, int] | None:
    """The pids once both programs run; None meanwhile (also while a restart has the
    daemon not answering)."""
    try:
        pids = _pids(daemon)
    except (OSError, xmlrpc.client.Error):
        return None
    return pids if set(pids) == {"one", "two"} else None


def test_reload_with_a_broken_config_prints_the_problems_and_restarts_nothing(
    tmp_path: Path,
) -> None:
    with detached_daemon(tmp_path, PROGRAMS) as daemon:
        before = wait_until(lambda: _running(daemon), what="one and two to run")
        good = daemon.conf.read_text()
        daemon.conf.write_text(good + BROKEN)

        result = run_ctl("vigil", ["-c", str(daemon.conf), "reload"])

        assert result.status == 1, result
        lines = result.stdout.splitlines()
        assert lines[0].startswith("ERROR: CANT_REREAD: "), result
        assert "Restarted supervisord" not in result.stdout, result
        problems = [line for line in lines if str(daemon.conf) in line]
        assert len(problems) == 2, result
        assert any("startsecs" in line and "'soon'" in line for line in problems), result
        assert any("stopsignal" in line for line in problems), result
        assert _pids(daemon) == before
        assert daemon.rpc().supervisor.getPID() == daemon.pid

        # With the file mended, reload is Supervisor's again, and it does restart.
        daemon.conf.write_text(good)
        result = run_ctl("vigil", ["-c", str(daemon.conf), "reload"])
        assert (result.status, result.stdout) == (0, "Restarted supervisord\n"), result
        after = wait_until(
            lambda: (pids := _running(daemon)) and pids != before and pids,
            what="one and two to run again after the restart",
        )
        assert set(after.values()).isdisjoint(before.values())
