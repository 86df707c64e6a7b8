"""supervisorctl's reopen and status --stats against a daemonized vigil: a log moved away is
reopened at its path with nothing lost and nothing restarted; --stats adds real figures after
Supervisor's columns while plain status stays as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ctl.harness import run_ctl
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import unix_proxy, wait_until

PROGRAMS = """
[program:echo]
command=cat
startsecs=0
stdout_logfile=%(here)s/echo.log

[program:tree]
command=sh -c 'sleep 1001 & wait'
startsecs=0
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("ctl-obs")
    conf = config(tmp, PROGRAMS)
    started = Started()
    started.append(start_daemonized(conf))
    try:
        for name in ("echo", "tree"):
            started.append(running_pid(conf, name))
        yield tmp
    finally:
        unix_proxy(tmp / "s.sock").supervisor.shutdown()
        wait_until(lambda: not (tmp / "s.sock").exists(), what="the daemon's exit")
        started.end()


def ctl(tmp: Path, *args: str) -> tuple[str, int]:
    result = run_ctl("vigil", ["-s", f"unix://{tmp / 's.sock'}", *args])
    return result.stdout, result.status


def test_reopen_after_a_move_loses_nothing_and_restarts_nothing(daemon: Path) -> None:
    rpc = unix_proxy(daemon / "s.sock").supervisor
    log = daemon / "echo.log"
    pid = rpc.getProcessInfo("echo")["pid"]
    rpc.sendProcessStdin("echo", "before the move\n")
    wait_until(lambda: "before the move" in log.read_text(), what="the first line")
    log.rename(daemon / "echo.log.1")
    rpc.sendProcessStdin("echo", "moved, not reopened\n")
    wait_until(
        lambda: "moved, not reopened" in (daemon / "echo.log.1").read_text(),
        what="writes following the moved file",
    )
    assert ctl(daemon, "reopen", "echo") == ("echo: reopened\n", 0)
    rpc.sendProcessStdin("echo", "after the reopen\n")
    wait_until(lambda: log.exists() and "after the reopen" in log.read_text(), what="a new file")
    assert (daemon / "echo.log.1").read_text() == "before the move\nmoved, not reopened\n"
    assert log.read_text() == "after the reopen\n"
    assert rpc.getProcessInfo("echo")["pid"] == pid
    output, status = ctl(daemon, "reopen", "nobody")
    assert (output, status) == ("nobody: ERROR (no such process)\n", 1)
    output, status = ctl(daemon, "reopen", "--json", "all")
    assert [r["name"] for r in json.loads(output)] == ["echo", "tree"] and status == 0


def test_status_stats_adds_figures_and_plain_status_is_unchanged(daemon: Path) -> None:
    plain, plain_status = ctl(daemon, "status")
    stats, stats_status = ctl(daemon, "status", "--stats")
    assert plain_status == stats_status == 0
    assert "CPU%" not in plain and len(plain.splitlines()) == 2
    header, *rows = stats.splitlines()
    assert header.split() == ["CPU%", "MEM", "RESTARTS"]
    for row, line in zip(rows, plain.splitlines(), strict=True):
        assert row.startswith(line.rstrip().rsplit("uptime", 1)[0])
    tree = next(row for row in rows if row.startswith("tree"))
    cpu, mem, restarts = tree.split()[-3:]
    assert float(cpu) >= 0 and mem.endswith(("K", "M")) and restarts == "0"
    output, _ = ctl(daemon, "status", "--stats", "--json", "tree")
    (record,) = json.loads(output)
    assert record["rss_bytes"] > record["rss_bytes_main"] > 0 and record["restarts"] == 0
