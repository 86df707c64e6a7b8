"""avail, reread, update, add and remove: Supervisor 4.3.0's supervisorctl and vigil's against
twin daemons whose configuration files change the same way under them."""

from __future__ import annotations

import pytest

from tests.ctl.harness import Twins

BEFORE = """
[program:sleeper]
command=sleep 1000
startsecs=0

[program:stopped]
command=sleep 1000
autostart=false

[program:changed]
command=sleep 1000
autostart=false

[program:gone]
command=sleep 1000
autostart=false
priority=5
"""

AFTER = """
[program:sleeper]
command=sleep 1000
startsecs=0

[program:stopped]
command=sleep 1000
autostart=false

[program:changed]
command=sleep 2000
autostart=false

[program:newprog]
command=sleep 1000
autostart=false

[group:newgroup]
programs=member
priority=7

[program:member]
command=sleep 1000
autostart=false
"""


@pytest.fixture
def twins(daemon_kind: str, start_twins: object) -> Twins:
    assert callable(start_twins)
    pair: Twins = start_twins(daemon_kind, BEFORE)
    pair.wait_states({"sleeper": "RUNNING"})
    return pair


def test_unchanged_configuration(twins: Twins) -> None:
    twins.check("avail", status=0)
    twins.check("reread", status=0)
    twins.check("update", status=0)
    twins.check("update", "all", status=0)
    twins.check("update", "nosuch", status=1)
    twins.check("add", "nosuch", status=1)
    twins.check("add", "sleeper", status=0)  # already active
    twins.check("add", status=0)
    twins.check("remove", "sleeper", status=1)  # still running
    twins.check("remove", "nosuch", status=1)
    twins.check("remove", "stopped", status=0)
    twins.check("avail", status=0)
    twins.check("add", "stopped", status=0)
    twins.check("status", status=3)
    twins.check("clear", "all", status=0)


def test_changed_configuration(twins: Twins) -> None:
    twins.each(lambda daemon: daemon.rewrite_programs(AFTER))
    twins.check("reread", status=0)
    twins.check("avail", status=0)
    twins.check("update", "newprog", "nosuch", status=1)
    twins.check("update", "changed", status=0)
    twins.check("status", status=3)
    twins.check("update", status=0)
    twins.check("avail", status=0)
    twins.check("reread", status=0)


def test_reread_of_a_broken_file(twins: Twins) -> None:
    twins.each(lambda daemon: daemon.rewrite_programs("[program:broken]\n"))
    result = twins.check("reread", status=1)
    assert result.stdout.startswith("ERROR: CANT_REREAD: ")
    twins.check("update", status=1)
