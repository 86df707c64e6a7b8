"""Scaling at run time and the update after it, against a daemonized daemon: new instances
get the next process_num values and their expansions, removed ones go highest first, the
instances that remain keep their pids; ``update`` reconciles to the file's numprocs the same
way; and ``update_strategy = rolling`` updates a changed program one instance at a time."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.api.client import EventReader, call
from tests.ctl.harness import run_ctl
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import unix_proxy, wait_until

PROGRAM = """
[program:w]
command=sh -c 'echo num=%(process_num)d; exec sleep 1000'
numprocs=2
process_name=w_%(process_num)d
startsecs=0
stdout_logfile={tmp}/w_%(process_num)d.log
{extra}
"""


def _conf(tmp_path: Path, extra: str = "") -> Path:
    return config(
        tmp_path,
        f"[supervisorctl]\nserverurl=unix://{tmp_path}/s.sock\n"
        + textwrap.dedent(PROGRAM).format(tmp=tmp_path, extra=extra),
    )


def _running(sock: Path) -> dict[str, int]:
    infos = unix_proxy(sock).supervisor.getAllProcessInfo()
    return {i["name"]: i["pid"] for i in infos if i["statename"] == "RUNNING"}


def _names(sock: Path) -> list[str]:
    return [i["name"] for i in unix_proxy(sock).supervisor.getAllProcessInfo()]


def test_scale_up_down_and_back_keeps_the_instances_that_remain(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = _conf(tmp_path)
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    first = {name: running_pid(conf, f"w:{name}") for name in ("w_0", "w_1")}

    up = run_ctl("vigil", ["-c", str(conf), "scale", "w", "4"])
    assert up.status == 0, up
    assert up.stdout.splitlines() == ["w:w_2: started", "w:w_3: started", "w: scaled to 4"]
    now = _running(sock)
    assert _names(sock) == ["w_0", "w_1", "w_2", "w_3"]
    assert {n: now[n] for n in first} == first  # the others untouched
    for num in (2, 3):  # their own process_num, in the command and the log path
        log = tmp_path / f"w_{num}.log"
        wait_until(
            lambda log=log, num=num: f"num={num}" in (log.read_text() if log.exists() else "")
        )
    documents = call(sock, "GET", "/groups?resources=false").json()
    assert [d["namespec"] for d in documents[0]["processes"]] == [f"w:w_{n}" for n in range(4)]

    down = run_ctl("vigil", ["-c", str(conf), "scale", "--json", "w", "1"])
    assert down.status == 0, down
    assert _names(sock) == ["w_0"]
    assert _running(sock) == {"w_0": first["w_0"]}
    assert "w:w_3" in down.stdout and down.stdout.index("w:w_3") < down.stdout.index("w:w_1")

    # the JSON API and XML-RPC: back to 3, then update restores the file's 2
    answer = call(sock, "POST", "/groups/w/scale", {"numprocs": 3})
    assert answer.status == 200, answer.body
    assert answer.json()["added"] == ["w:w_1", "w:w_2"]
    kept = _running(sock)
    assert kept["w_0"] == first["w_0"]
    reread = run_ctl("vigil", ["-c", str(conf), "reread"])
    assert reread.stdout.splitlines() == ["w: changed"]
    update = run_ctl("vigil", ["-c", str(conf), "update"])
    assert update.status == 0, update
    assert update.stdout.splitlines()[-1] == "w: updated process group (reconcile)"
    assert _names(sock) == ["w_0", "w_1"]
    assert _running(sock) == {"w_0": kept["w_0"], "w_1": kept["w_1"]}
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def test_scale_refuses_what_it_cannot_do(tmp_path: Path, cleanup: Started) -> None:
    conf = _conf(tmp_path)
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    running_pid(conf, "w:w_0")
    for body, detail in (
        ({"numprocs": 0}, "numprocs must be 1 to"),
        ({"numprocs": "2"}, "numprocs must be an integer"),
        ({}, "numprocs is required"),
    ):
        answer = call(sock, "POST", "/groups/w/scale", body)
        assert answer.status == 400, answer.body
        assert detail in answer.json()["detail"]
    assert call(sock, "POST", "/groups/nope/scale", {"numprocs": 2}).status == 404
    # the file changed under the running instances: update first
    conf.write_text(conf.read_text().replace("echo num=", "echo number="))
    changed = call(sock, "POST", "/groups/w/scale", {"numprocs": 3})
    assert changed.status == 422, changed.body
    assert "command changed in the file" in changed.json()["detail"]
    assert _names(sock) == ["w_0", "w_1"]
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def test_update_with_update_strategy_rolling_replaces_one_at_a_time(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = _conf(tmp_path, "update_strategy=rolling")
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    before = {name: running_pid(conf, f"w:{name}") for name in ("w_0", "w_1")}
    conf.write_text(conf.read_text().replace("echo num=", "echo number="))
    update = run_ctl("vigil", ["-c", str(conf), "update"])
    assert update.status == 0, update
    assert update.stdout.splitlines() == [
        "w:w_0: stopped",
        "w:w_0: started",
        "w:w_1: stopped",
        "w:w_1: started",
        "w: updated process group (rolling)",
    ]
    after = _running(sock)
    assert set(after) == {"w_0", "w_1"} and all(after[n] != before[n] for n in before)
    wait_until(lambda: "number=1" in (tmp_path / "w_1.log").read_text(), what="the new command")
    assert run_ctl("vigil", ["-c", str(conf), "reread"]).stdout.strip() == (
        "No config updates to processes"
    )
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def _scaled_event(reader: EventReader) -> dict[str, object]:
    """The next PROCESS_GROUP_SCALED on the stream (state changes before it skipped; bounded
    by the reader's deadline and by the number of events a scale makes)."""
    for _ in range(100):
        event = reader.event()
        if event["type"] == "PROCESS_GROUP_SCALED":
            return event
    raise AssertionError("no PROCESS_GROUP_SCALED within 100 events")


def test_a_scale_and_the_update_that_reconciles_it_are_published_on_the_event_stream(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = _conf(tmp_path)
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    running_pid(conf, "w:w_1")
    reader = EventReader(sock, "?group=w")
    try:
        assert call(sock, "POST", "/groups/w/scale", {"numprocs": 4}).status == 200
        up = _scaled_event(reader)
        assert (up["group"], up["added"], up["removed"]) == ("w", ["w_2", "w_3"], [])
        assert call(sock, "POST", "/groups/w/scale", {"numprocs": 1}).status == 200
        down = _scaled_event(reader)
        assert (down["added"], down["removed"]) == ([], ["w_3", "w_2", "w_1"])
        update = run_ctl("vigil", ["-c", str(conf), "update"])  # back to the file's 2
        assert update.status == 0, update
        back = _scaled_event(reader)
        assert (back["added"], back["removed"]) == (["w_1"], [])
    finally:
        reader.close()
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")
