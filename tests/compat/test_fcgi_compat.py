"""fcgi-program against Supervisor 4.3.0: the same configuration under both daemons, detached
as users run them; what the processes report, what a client receives over TCP and over a unix
socket, the socket file's mode and owner, and the two places vigil deliberately differs (the
socket kept across restarts, the socket file removed with its group)."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.compat.support import (
    DEADLINE,
    KINDS,
    OURS,
    PY,
    REFERENCE,
    Recorder,
    Side,
    assert_same,
    free_port,
    in_parallel,
    require_reference,
)
from tests.daemon.detached import DetachedDaemon

# Says on each channel that it started, then answers every connection with its group, the
# family of its fd 0 and whether fd 0 is a listening socket, and the inode of that socket.
FCGI_CHILD = """\
import os, socket, sys
listener = socket.socket(fileno=0)
accepting = listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
print("serving", listener.family.name, flush=True)
print("stderr works", file=sys.stderr, flush=True)
while True:
    conn, _ = listener.accept()
    with conn:
        group = os.environ["SUPERVISOR_GROUP_NAME"]
        answer = f"{group} {listener.family.name} accepting={accepting} {os.fstat(0).st_ino}"
        conn.sendall(answer.encode())
"""

OWNER = (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())

BODY = """
[fcgi-program:web]
command={py} {tmp}/fcgi_child.py
socket=tcp://127.0.0.1:{port}
numprocs=2
process_name=%(program_name)s_%(process_num)s
startsecs=0

[fcgi-program:local]
command={py} {tmp}/fcgi_child.py
socket=unix://{tmp}/local.sock
socket_owner={uid}:{gid}
socket_mode=0660
startsecs=0
"""


@contextlib.contextmanager
def detached_pair(tmp_path: Path) -> Iterator[dict[str, Recorder]]:
    """Both daemons, detached, on BODY; each with its own directory and fcgi port."""
    require_reference()
    with contextlib.ExitStack() as stack:
        sides: dict[str, Side] = {}
        for kind in KINDS:
            tmp = tmp_path / kind[:3]  # short: a unix socket path has a length limit
            tmp.mkdir()
            (tmp / "fcgi_child.py").write_text(FCGI_CHILD)
            port = free_port()
            body = BODY.format(tmp=tmp, py=PY, port=port, uid=OWNER[0], gid=OWNER[1])
            daemon = DetachedDaemon(tmp, body, kind=kind)
            stack.callback(daemon.stop)
            sides[kind] = Side(kind, tmp, port, daemon)
        in_parallel({kind: side.daemon.start for kind, side in sides.items()})
        yield {kind: Recorder(side) for kind, side in sides.items()}


def run_both(tmp_path: Path, scenario: Callable[[Recorder], Any]) -> dict[str, Any]:
    """Run `scenario` on both daemons at once, require identical transcripts, and return
    what each scenario returned (for the differences the test states explicitly)."""
    with detached_pair(tmp_path) as recorders:
        results = in_parallel({kind: _bound(scenario, rec) for kind, rec in recorders.items()})
    assert_same({kind: rec.steps for kind, rec in recorders.items()})
    return results


def _bound(scenario: Callable[[Recorder], Any], recorder: Recorder) -> Callable[[], Any]:
    return lambda: scenario(recorder)


def by_name(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results of a group's stops and starts in name order: each daemon lists them as they
    complete, and which of two children is reaped first is up to the kernel."""
    return sorted(results, key=lambda result: str(result["name"]))


def ask(address: str | tuple[str, int]) -> str:
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as conn:
        conn.settimeout(DEADLINE)
        conn.connect(address)
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    return data.decode()


def without_inode(answer: str) -> str:
    return answer.rsplit(" ", 1)[0]


def inode_of(answer: str) -> int:
    return int(answer.rsplit(" ", 1)[1])


def statuses(rec: Recorder) -> None:
    rec.call(
        "supervisor.getAllProcessInfo",
        view=lambda infos: [
            {key: info[key] for key in ("name", "group", "statename", "spawnerr", "exitstatus")}
            for info in infos
        ],
    )


def serve(rec: Recorder) -> dict[str, object]:
    """Both kinds of socket answer; return what differs on purpose (inodes, files)."""
    tcp = ("127.0.0.1", rec.side.port)
    unix = str(rec.side.tmp / "local.sock")
    for name in ("web:web_0", "web:web_1", "local"):
        rec.wait_state(name, "RUNNING")
    statuses(rec)
    first = ask(tcp)
    rec.record("tcp answer", without_inode(first))
    rec.record("unix answer", without_inode(ask(unix)))
    info = os.stat(unix)
    rec.record("socket file", [stat.filemode(info.st_mode), info.st_uid, info.st_gid])
    rec.wait_log("web:web_0", "serving AF_INET")
    rec.wait_log("local", "stderr works", "stderr")
    rec.wait_log("web:web_1", "stderr works", "stderr")
    rec.call("supervisor.readProcessStdoutLog", "local", 0, 0)
    rec.call("supervisor.readProcessStderrLog", "web:web_1", 0, 0)
    rec.call("supervisor.sendProcessStdin", "local", "fcgi children read the socket\n")
    # restart the group's processes
    rec.call("supervisor.stopProcessGroup", "web", view=by_name)
    rec.call("supervisor.startProcessGroup", "web", view=by_name)
    statuses(rec)
    after_restart = ask(tcp)
    rec.record("tcp answer after restart", without_inode(after_restart))
    # remove the unix group: its socket stops answering
    rec.call("supervisor.stopProcessGroup", "local")
    rec.call("supervisor.removeProcessGroup", "local")
    try:
        ask(unix)
        outcome = "answered"
    except (ConnectionRefusedError, FileNotFoundError):
        outcome = "refused"
    rec.record("unix socket after removal", outcome)
    return {
        "same socket after restart": inode_of(first) == inode_of(after_restart),
        "socket file after removal": os.path.exists(unix),
    }


def test_fcgi_program_against_supervisor(tmp_path: Path) -> None:
    kept = run_both(tmp_path, serve)
    # Deliberate differences (docs/compatibility.md): 4.3.0 closes the socket when the last
    # process of the group exits and makes a new one at the next spawn, and leaves the socket
    # file behind when the group goes; vigil keeps one socket for the life of the group and
    # removes its file with it.
    assert kept[REFERENCE] == {
        "same socket after restart": False,
        "socket file after removal": True,
    }
    assert kept[OURS] == {"same socket after restart": True, "socket file after removal": False}


def replace_in_config(rec: Recorder, old: str, new: str) -> None:
    conf = rec.daemon.conf
    text = conf.read_text()
    assert old in text, f"{conf} does not hold {old!r}"
    conf.write_text(text.replace(old, new))


def apply_update(rec: Recorder) -> None:
    """What `supervisorctl update` does, step by step, each step recorded."""
    result = rec.call("supervisor.reloadConfig")
    added, changed, removed = result[0]
    for name in [*changed, *removed]:
        rec.call("supervisor.stopProcessGroup", name, view=by_name)
        rec.call("supervisor.removeProcessGroup", name)
    for name in [*changed, *added]:
        rec.call("supervisor.addProcessGroup", name)


def move_socket(rec: Recorder) -> list[list[list[str]]]:
    """`update` after the TCP port changed moves the socket; then report what `reread` says
    when only socket_mode changed (the deliberate difference)."""
    old_port, new_port = rec.side.port, free_port()
    for name in ("web:web_0", "web:web_1"):
        rec.wait_state(name, "RUNNING")
    replace_in_config(rec, f"127.0.0.1:{old_port}", f"127.0.0.1:{new_port}")
    apply_update(rec)
    for name in ("web:web_0", "web:web_1"):
        rec.wait_state(name, "RUNNING")
    statuses(rec)
    rec.record("new port answers", without_inode(ask(("127.0.0.1", new_port))))
    try:
        ask(("127.0.0.1", old_port))
        outcome = "answered"
    except ConnectionRefusedError:
        outcome = "refused"
    rec.record("old port", outcome)
    replace_in_config(rec, "socket_mode=0660", "socket_mode=0600")
    mode_only: list[list[list[str]]] = rec.rpc().supervisor.reloadConfig()
    return mode_only


def test_update_moves_the_socket_like_supervisor(tmp_path: Path) -> None:
    mode_only = run_both(tmp_path, move_socket)
    # 4.3.0 compares only the socket URL, so a new socket_mode, socket_owner or socket_backlog
    # alone is never applied by `update`; vigil sees the group as changed and remakes it.
    assert mode_only[REFERENCE] == [[[], [], []]]
    assert mode_only[OURS] == [[[], ["local"], []]]
