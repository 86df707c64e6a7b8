"""A listener that stops reading its stdin holds up nobody: the daemon keeps answering, other
pools keep getting their events, even when one envelope is far larger than a pipe holds."""

from __future__ import annotations

from pathlib import Path

from tests.events.support import config, listener, recorder, records, wait_for_events
from tests.support import PY, running_daemon

BIG = 1 << 20  # one read of a child's output, sixteen times a pipe's capacity
LOUD = f"import sys, time; sys.stdout.write('x' * {BIG}); sys.stdout.flush(); time.sleep(600)"


def test_a_stuck_listener_stalls_neither_the_daemon_nor_other_pools(tmp_path: Path) -> None:
    recorder(tmp_path)
    body = config(
        """
        [eventlistener:stuck]
        command=/bin/sh -c 'echo READY; exec sleep 600'
        events=PROCESS_LOG
        startsecs=0
        """,
        listener("witness", "witness.jsonl", "PROCESS_LOG"),
        f"""
        [program:loud]
        command={PY} -c "{LOUD}"
        stdout_events_enabled=true
        startsecs=0
        autostart=false
        """,
    ).replace("{dir}", str(tmp_path))
    with running_daemon(tmp_path, body) as daemon:
        daemon.wait_state("stuck", "RUNNING")
        daemon.wait_state("witness", "RUNNING")
        rpc = daemon.rpc()
        rpc.supervisor.startProcess("loud")
        got = wait_for_events(tmp_path / "witness.jsonl", 1)
        while sum(len(r.get("payload", "")) for r in records(tmp_path / "witness.jsonl")) < BIG:
            got = wait_for_events(tmp_path / "witness.jsonl", len(got) + 1)
        assert rpc.supervisor.getState()["statename"] == "RUNNING"
        assert "event 0 sent to listener stuck" in daemon.log.read_text()
        rpc.supervisor.sendRemoteCommEvent("still", "here")
        assert rpc.supervisor.stopProcess("loud") is True
