"""PROCESS_STATE events under vigil and under Supervisor 4.3.0, on the same config and the same
steps: what a listener subscribed to the parent type receives must be the same bytes, pids
aside (and the pids must be the children's)."""

from __future__ import annotations

import re
import xmlrpc.client
from pathlib import Path

from tests.events.support import Pair, config, event, listener, records, same, wait_for_events
from tests.support import PY, Daemon

SLEEPER = f"{PY} -c 'import time; time.sleep(600)'"
BODY = config(
    listener("l", "got.jsonl", "PROCESS_STATE"),
    f"""
    [program:ok]
    command={SLEEPER}
    autostart=false
    startsecs=0

    [program:crash]
    command=/bin/sh -c 'sleep 0.1; exit 3'
    autostart=false
    autorestart=false
    startsecs=0

    [program:expected]
    command=/bin/sh -c 'sleep 0.1; exit 3'
    autostart=false
    autorestart=false
    exitcodes=3
    startsecs=0

    [program:fail]
    command=/bin/sh -c 'exit 1'
    autostart=false
    startsecs=1
    startretries=1
    """,
)


def test_start_stop_exit_backoff_and_fatal(tmp_path: Path) -> None:
    ok_pids: list[int] = []

    def drive(daemon: Daemon) -> list[str]:
        record = daemon.tmp / "got.jsonl"
        daemon.wait_state("l", "RUNNING")
        wait_for_events(record, 2)  # its own STARTING and RUNNING
        rpc = daemon.rpc()
        rpc.supervisor.startProcess("ok")
        if daemon.kind == "vigil":
            ok_pids.append(daemon.info("ok")["pid"])
        rpc.supervisor.stopProcess("ok")
        wait_for_events(record, 6)
        for name in ("crash", "expected"):
            rpc.supervisor.startProcess(name)
            daemon.wait_state(name, "EXITED")
        wait_for_events(record, 12)
        try:
            rpc.supervisor.startProcess("fail", False)
        except xmlrpc.client.Fault as fault:
            # Supervisor reaps at once: a child already gone makes even wait=False a failure
            assert fault.faultString == "SPAWN_ERROR: fail"
        daemon.wait_state("fail", "FATAL")
        return wait_for_events(record, 17)

    with Pair(tmp_path, BODY) as pair:
        got = same(pair.run(drive))
        raw = "\n".join(r.get("payload", "") for r in records(pair.path("vigil", "got.jsonl")))
    # RUNNING, STOPPING and STOPPED of "ok" carry the pid of the child that ran
    assert [int(pid) for pid in re.findall(r"processname:ok .*pid:(\d+)", raw)] == ok_pids * 3
    mine, fail = "processname:l groupname:l", "processname:fail groupname:fail"
    assert got[:2] == [
        event(0, "PROCESS_STATE_STARTING", f"{mine} from_state:STOPPED tries:0"),
        event(1, "PROCESS_STATE_RUNNING", f"{mine} from_state:STARTING pid:<pid>"),
    ]
    assert got[-5:] == [
        event(12, "PROCESS_STATE_STARTING", f"{fail} from_state:STOPPED tries:0"),
        event(13, "PROCESS_STATE_BACKOFF", f"{fail} from_state:STARTING tries:1"),
        event(14, "PROCESS_STATE_STARTING", f"{fail} from_state:BACKOFF tries:1"),
        event(15, "PROCESS_STATE_BACKOFF", f"{fail} from_state:STARTING tries:2"),
        event(16, "PROCESS_STATE_FATAL", f"{fail} from_state:BACKOFF"),
    ]
    names = [line.split("eventname:")[1].split()[0] for line in got[2:12]]
    assert names == [
        "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING",  # ok
        "PROCESS_STATE_STOPPING", "PROCESS_STATE_STOPPED",
        "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING", "PROCESS_STATE_EXITED",  # crash
        "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING", "PROCESS_STATE_EXITED",  # expected
    ]  # fmt: skip
    assert "expected:0" in got[8] and "expected:1" in got[11]
