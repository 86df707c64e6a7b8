"""What vigil's supervisorctl adds: ``--json`` for status, avail and pid (same exit statuses
as the text forms, complaints on stderr so stdout stays parseable), and the import diet that
makes a one-shot command start fast."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable

import pytest

from tests.ctl.harness import PY, REPO, TestDaemon, ctl_environment, run_ctl

PROGRAMS = """
[program:sleeper]
command=sleep 1000
startsecs=0

[group:grp]
programs=manual
priority=7

[program:manual]
command=sleep 1000
autostart=false
priority=3
"""


@pytest.fixture
def daemon(daemon_kind: str, start_daemon: Callable[..., TestDaemon]) -> TestDaemon:
    started = start_daemon(daemon_kind, PROGRAMS)
    started.wait_states({"sleeper": "RUNNING"})
    return started


def _vigil(daemon: TestDaemon, *args: str) -> tuple[object, str, int]:
    result = run_ctl("vigil", ["-s", daemon.serverurl, *args])
    return json.loads(result.stdout), result.stderr, result.status


def test_status_json(daemon: TestDaemon) -> None:
    infos = {i["name"]: i for i in daemon.rpc().supervisor.getAllProcessInfo()}
    records, stderr, status = _vigil(daemon, "status", "--json")
    assert (stderr, status) == ("", 3)  # grp:manual is stopped, as in the text form
    assert isinstance(records, list)
    by_name = {record["namespec"]: record for record in records}
    assert set(by_name) == {"sleeper", "grp:manual"}
    sleeper = by_name["sleeper"]
    assert sleeper["statename"] == "RUNNING" and sleeper["state"] == 20
    assert sleeper["pid"] == infos["sleeper"]["pid"] > 0
    assert sleeper["group"] == "sleeper" and sleeper["description"].startswith("pid ")
    assert by_name["grp:manual"]["statename"] == "STOPPED"

    records, stderr, status = _vigil(daemon, "status", "sleeper", "--json", "nosuch")
    assert [record["namespec"] for record in records] == ["sleeper"]  # type: ignore[union-attr]
    assert (stderr, status) == ("nosuch: ERROR (no such process)\n", 4)


def test_avail_json(daemon: TestDaemon) -> None:
    records, stderr, status = _vigil(daemon, "avail", "--json")
    assert (stderr, status) == ("", 0)
    assert records == [
        {"namespec": "grp:manual", "group": "grp", "name": "manual", "inuse": True,
         "autostart": False, "group_prio": 7, "process_prio": 3},
        {"namespec": "sleeper", "group": "sleeper", "name": "sleeper", "inuse": True,
         "autostart": True, "group_prio": 999, "process_prio": 999},
    ]  # fmt: skip


def test_pid_json(daemon: TestDaemon) -> None:
    supervisord_pid = daemon.rpc().supervisor.getPID()
    sleeper_pid = daemon.rpc().supervisor.getProcessInfo("sleeper")["pid"]
    assert _vigil(daemon, "pid", "--json") == ({"pid": supervisord_pid}, "", 0)
    assert _vigil(daemon, "pid", "--json", "all") == (
        [{"name": "grp:manual", "pid": 0}, {"name": "sleeper", "pid": sleeper_pid}],
        "",
        0,
    )
    records, stderr, status = _vigil(daemon, "pid", "--json", "nosuch", "grp:manual")
    assert records == [{"name": "grp:manual", "pid": 0}]
    assert (stderr, status) == ("No such process nosuch\n", 7)


def test_text_output_is_unchanged_in_a_pipe(daemon: TestDaemon) -> None:
    result = run_ctl("vigil", ["-s", daemon.serverurl, "status"])
    assert "\x1b" not in result.stdout
    assert re.match(r"grp:manual {23}STOPPED   Not started\n", result.stdout)


# Modules a one-shot command must not pay for: the daemon's stack, and the stdlib clients
# whose import alone costs more than the command's work. (json is allowed: status reads a
# vigil daemon's JSON API, a millisecond to import against 20 ms of XML decoding saved with
# 500 programs.)
HEAVY = [
    *("asyncio", "aiohttp", "xmlrpc.client", "http.client", "email", "threading"),
    *("urllib.parse", "getopt", "typing", "dataclasses", "readline"),
    *("vigil.runtime", "vigil.services", "vigil.http", "vigil.config"),
]


def test_one_shot_status_imports_little(daemon: TestDaemon) -> None:
    """Run ``status`` under ``-X importtime`` and list what it imported. Without ``site``
    (``-S``), so that only the program's own imports count, and without a config file (its
    reader belongs to the config package)."""
    completed = subprocess.run(
        [PY, "-S", "-X", "importtime", "-m", "vigil.ctl.main", "-c", "", "-s", daemon.serverurl,
         "status"],
        capture_output=True, text=True, check=False, timeout=30,
        env=ctl_environment({"PYTHONPATH": str(REPO)}),
    )  # fmt: skip
    assert completed.returncode == 3, completed.stderr
    imported = {line.split("|")[-1].strip() for line in completed.stderr.splitlines()}
    assert "vigil.ctl.actions.status" in imported
    heavy = [n for n in imported if any(n == h or n.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
