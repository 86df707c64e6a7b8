"""REMOTE_COMMUNICATION, SUPERVISOR_STATE_CHANGE_*, PROCESS_GROUP_* and TICK_5 under vigil and
under Supervisor 4.3.0, including a listener pool added while the daemon runs (reloadConfig and
addProcessGroup, as `supervisorctl update` does)."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from tests.events.support import (
    Pair,
    config,
    envelopes,
    event,
    listener,
    records,
    same,
    wait_for_events,
)
from tests.support import Daemon, wait_until

BODY = config(
    listener(
        "l",
        "got.jsonl",
        "REMOTE_COMMUNICATION,SUPERVISOR_STATE_CHANGE,PROCESS_GROUP",
        "stop-on-stopping",
        extra="stopwaitsecs=20",
    ),
    """
    [program:p]
    command=/bin/sleep 600
    autostart=false
    """,
)
ADDED = config(
    """
    [program:late]
    command=/bin/sleep 600
    autostart=false
    """,
    listener("l2", "got2.jsonl", "PROCESS_GROUP,REMOTE_COMMUNICATION"),
)


def test_daemon_events_and_a_pool_added_at_run_time(tmp_path: Path) -> None:
    def drive(daemon: Daemon) -> tuple[list[str], list[str]]:
        record, record2 = daemon.tmp / "got.jsonl", daemon.tmp / "got2.jsonl"
        rpc = daemon.rpc()
        wait_for_events(record, 3)  # two groups added, then the daemon RUNNING
        assert rpc.supervisor.sendRemoteCommEvent("mytype", "mydata") is True
        rpc.supervisor.sendRemoteCommEvent("multi", "two\nlines")
        wait_for_events(record, 5)
        with daemon.conf.open("a") as conf:
            conf.write(textwrap.dedent(ADDED).replace("{dir}", str(daemon.tmp)))
        [[added, changed, removed]] = rpc.supervisor.reloadConfig()
        assert (sorted(added), changed, removed) == (["l2", "late"], [], [])
        rpc.supervisor.addProcessGroup("late")
        rpc.supervisor.addProcessGroup("l2")
        daemon.wait_state("l2", "RUNNING")
        wait_for_events(record2, 1)  # its own PROCESS_GROUP_ADDED
        rpc.supervisor.sendRemoteCommEvent("both", "pools")
        rpc.supervisor.removeProcessGroup("late")
        wait_for_events(record2, 3)
        rpc.supervisor.stopProcess("l2")
        rpc.supervisor.removeProcessGroup("l2")  # its pool goes with it
        wait_for_events(record, 10)
        # the listener's stdout is the protocol, and it is logged like any stdout
        protocol = "READY\n" + "RESULT 2\nOKREADY\n" * 10
        wait_until(lambda: rpc.supervisor.readProcessStdoutLog("l", 0, 0) == protocol)
        daemon.stop()  # l hears SUPERVISOR_STATE_CHANGE_STOPPING, answers, then exits
        return envelopes(record), envelopes(record2)

    with Pair(tmp_path, BODY) as pair:
        got, got2 = same(pair.run(drive))
    assert got == [
        "<listener started>",
        event(0, "PROCESS_GROUP_ADDED", "groupname:l\n"),
        event(1, "PROCESS_GROUP_ADDED", "groupname:p\n"),
        event(2, "SUPERVISOR_STATE_CHANGE_RUNNING", ""),
        event(3, "REMOTE_COMMUNICATION", "type:mytype\nmydata"),
        event(4, "REMOTE_COMMUNICATION", "type:multi\ntwo\nlines"),
        event(5, "PROCESS_GROUP_ADDED", "groupname:late\n"),
        event(6, "PROCESS_GROUP_ADDED", "groupname:l2\n"),
        event(7, "REMOTE_COMMUNICATION", "type:both\npools"),
        event(8, "PROCESS_GROUP_REMOVED", "groupname:late\n"),
        event(9, "PROCESS_GROUP_REMOVED", "groupname:l2\n"),
        event(10, "SUPERVISOR_STATE_CHANGE_STOPPING", ""),
    ]
    assert got2 == [
        "<listener started>",
        event(6, "PROCESS_GROUP_ADDED", "groupname:l2\n", "l2", 0),
        event(7, "REMOTE_COMMUNICATION", "type:both\npools", "l2", 1),
        event(8, "PROCESS_GROUP_REMOVED", "groupname:late\n", "l2", 2),
    ]


def test_tick_5_arrives_at_a_five_second_boundary(tmp_path: Path) -> None:
    body = listener("ticker", "got.jsonl", "TICK_5")

    def drive(daemon: Daemon) -> list[str]:
        return wait_for_events(daemon.tmp / "got.jsonl", 1, timeout=15)[:1]

    with Pair(tmp_path, body) as pair:
        got = same(pair.run(drive))
        raw = records(pair.path("vigil", "got.jsonl"))
    assert got == [event(0, "TICK_5", "when:<when>", "ticker")]
    when = int(raw[1]["payload"].removeprefix("when:"))
    assert when % 5 == 0 and abs(time.time() - when) < 15
