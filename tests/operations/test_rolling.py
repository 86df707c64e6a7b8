"""Rolling restarts against real servers: four HTTP servers share one port (SO_REUSEPORT)
while a client thread sends requests without pause. Supervisor's restart of the group leaves
the port without a listener (the client is refused, which shows the client can see it); a
rolling restart never does. An instance made to fail at its start ends the roll there, and
the instances not reached keep running with their pids."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

from tests.api.client import call
from tests.ctl.harness import free_port, run_ctl
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.operations.programs import Client, write_server
from tests.support import PY, Daemon, unix_proxy, wait_until

NAMES = [f"web:web_{n}" for n in range(4)]


def _daemon(tmp_path: Path, cleanup: Started, port: int, extra: str = "") -> Path:
    server = write_server(tmp_path)
    conf = config(
        tmp_path,
        textwrap.dedent(
            f"""
        [supervisorctl]
        serverurl=unix://{tmp_path}/s.sock

        [program:web]
        command={PY} {server} {port} %(process_num)d {tmp_path}
        numprocs=4
        process_name=web_%(process_num)d
        startsecs=1
        startretries=0
        stopwaitsecs=5
        """
        )
        + extra,
    )
    cleanup.append(start_daemonized(conf))
    for name in NAMES:
        cleanup.append(running_pid(conf, name))
    return conf


def _pids(sock: Path) -> dict[str, int]:
    infos = unix_proxy(sock).supervisor.getAllProcessInfo()
    return {f"{i['group']}:{i['name']}": i["pid"] for i in infos if i["statename"] == "RUNNING"}


def _shutdown(sock: Path) -> None:
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def test_a_rolling_restart_keeps_a_listener_where_a_restart_does_not(
    tmp_path: Path, cleanup: Started
) -> None:
    port = free_port()
    conf = _daemon(tmp_path, cleanup, port)
    sock = tmp_path / "s.sock"
    before = _pids(sock)
    with Client(port) as client:
        client.wait_answers(20)
        rolled = run_ctl("vigil", ["-c", str(conf), "restart", "--rolling", "web:*"])
        client.wait_answers(20)
    assert rolled.status == 0, rolled
    assert rolled.stdout.splitlines() == [
        line for name in NAMES for line in (f"{name}: stopped", f"{name}: started")
    ]
    assert client.tally.refused == 0, client.tally
    # Linux resets the connections waiting in the queue of a listener that closes (the
    # stopped instance's own, at its exit): a server's shutdown, not a port left bare
    assert all(o.startswith("ConnectionResetError") for o in client.tally.other), client.tally
    assert client.tally.instances == {f"instance {n}" for n in range(4)}
    after = _pids(sock)
    assert set(after) == set(NAMES)
    assert all(after[name] != before[name] for name in NAMES)

    # Supervisor's restart of the same group: the client finds nothing listening
    with Client(port) as client:
        client.wait_answers(20)
        plain = run_ctl("vigil", ["-c", str(conf), "restart", "web:*"])
        client.wait_answers(20)
    assert plain.status == 0, plain
    assert client.tally.refused > 0, client.tally
    _shutdown(sock)


def test_a_failing_instance_ends_the_roll_and_the_rest_keep_running(
    tmp_path: Path, cleanup: Started
) -> None:
    port = free_port()
    conf = _daemon(tmp_path, cleanup, port)
    sock = tmp_path / "s.sock"
    before = _pids(sock)
    (tmp_path / "fail_2").touch()
    with Client(port) as client:
        client.wait_answers(10)
        rolled = run_ctl("vigil", ["-c", str(conf), "restart", "--rolling", "web:*"])
    assert rolled.status != 0, rolled
    lines = rolled.stdout.splitlines()
    assert lines[:5] == [
        "web:web_0: stopped",
        "web:web_0: started",
        "web:web_1: stopped",
        "web:web_1: started",
        "web:web_2: stopped",
    ]
    assert lines[5].startswith("web:web_2: ERROR (")
    assert lines[6].startswith("ERROR: web:*: stopped at web:web_2 (it did not start")
    assert lines[6].endswith("; left as they were: web:web_3")
    assert client.tally.refused == 0, client.tally
    after = _pids(sock)
    assert after["web:web_3"] == before["web:web_3"]  # not reached: untouched
    assert "web:web_2" not in after
    assert after["web:web_0"] != before["web:web_0"]
    assert after["web:web_1"] != before["web:web_1"]

    # the same over the JSON API, in batches of two: it stops in the second batch
    (tmp_path / "fail_2").unlink()
    (tmp_path / "fail_3").touch()
    unix_proxy(sock).supervisor.startProcess("web:web_2")
    answer = call(sock, "POST", "/processes/web:*/restart", {"rolling": True, "batch": 2})
    assert answer.status == 200, answer.body
    document = answer.json()
    assert document["done"] is False
    assert document["failed"] == "web:web_3"
    assert document["restarted"] == ["web:web_0", "web:web_1", "web:web_2"]
    assert [r["action"] for r in document["results"]][:4] == ["stop", "stop", "start", "start"]
    refused = call(sock, "POST", "/processes/web:*/restart", {"rolling": True, "batch": 0})
    assert refused.status == 400, refused.body
    assert "batch must be 1 to" in refused.json()["detail"]
    _shutdown(sock)


def test_rolling_restart_waits_for_health_and_takes_batch_and_pause(
    tmp_path: Path, cleanup: Started
) -> None:
    port = free_port()
    conf = _daemon(
        tmp_path,
        cleanup,
        port,
        extra=f"healthcheck=tcp://127.0.0.1:{port}\nhealthcheck_interval=0.3\n",
    )
    sock = tmp_path / "s.sock"
    started = time.monotonic()
    rolled = run_ctl(
        "vigil",
        ["-c", str(conf), "restart", "--rolling", "--batch", "2", "--pause=0.5", "--json", "web:*"],
    )
    assert rolled.status == 0, rolled
    assert time.monotonic() - started >= 0.5  # one pause between the two batches
    records = json.loads(rolled.stdout)
    assert [(r["name"], r["message"]) for r in records] == [
        ("web:web_0", "stopped"),
        ("web:web_1", "stopped"),
        ("web:web_0", "started"),
        ("web:web_1", "started"),
        ("web:web_2", "stopped"),
        ("web:web_3", "stopped"),
        ("web:web_2", "started"),
        ("web:web_3", "started"),
    ]
    documents = {d["namespec"]: d for d in call(sock, "GET", "/processes?resources=false").json()}
    assert all(documents[name]["health"]["status"] == "healthy" for name in NAMES)
    bad = run_ctl("vigil", ["-c", str(conf), "restart", "--batch", "2", "web:*"])
    assert bad.status == 2 and "--batch go with --rolling" in bad.stdout, bad
    _shutdown(sock)


def test_rolling_needs_a_vigil_daemon(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path, "[program:cat]\ncommand=cat\nstartsecs=0\n", kind="supervisor")
    daemon.start()
    try:
        result = run_ctl("vigil", ["-s", f"unix://{daemon.sock}", "restart", "--rolling", "cat"])
        scaled = run_ctl("vigil", ["-s", f"unix://{daemon.sock}", "scale", "cat", "2"])
    finally:
        daemon.stop()
    assert result.status == 3, result
    assert "restart --rolling needs a vigil daemon" in result.stdout
    assert scaled.status == 3, scaled
    assert "scale needs a vigil daemon" in scaled.stdout
