"""fcgi-program end to end: one listening socket per group, made by the daemon, shared by every
process of the group as its fd 0, kept across restarts, moved and removed by `update`.

The daemon runs detached, as users run it; the programs are small Python servers that accept
on fd 0, and the clients are real TCP (127.0.0.1) and unix-socket connections.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
from pathlib import Path

from tests.ctl.harness import ctl_command, ctl_environment
from tests.daemon.detached import DetachedDaemon
from tests.support import PY, wait_until

DEADLINE = 30.0

# Answers every connection with its process name and the inode of its fd 0, which tells which
# listening socket it was handed.
FCGI_CHILD = """\
import os, socket, sys
listener = socket.socket(fileno=0)
print("serving on", listener.getsockname(), flush=True)
print("stderr is captured", file=sys.stderr, flush=True)
while True:
    conn, _ = listener.accept()
    with conn:
        name = os.environ["SUPERVISOR_PROCESS_NAME"]
        conn.sendall(f"{name} {os.fstat(0).st_ino}\\n".encode())
"""


def owner() -> tuple[int, int]:
    """Someone else when we can chown (root), else ourselves: chown is exercised either way."""
    return (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())


def body(tmp: Path, port: int, sock: Path, *, mode: str = "0660", extra: str = "") -> str:
    uid, gid = owner()
    return f"""
[fcgi-program:web]
command={PY} {tmp}/fcgi_child.py
socket=tcp://127.0.0.1:{port}
numprocs=2
process_name=%(program_name)s_%(process_num)s
startsecs=0

[fcgi-program:local]
command={PY} {tmp}/fcgi_child.py
socket=unix://{sock}
socket_owner={uid}:{gid}
socket_mode={mode}
startsecs=0
{extra}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ask_tcp(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as conn:
        return read_answer(conn)


def ask_unix(path: Path) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(DEADLINE)
        conn.connect(str(path))
        return read_answer(conn)


def read_answer(conn: socket.socket) -> str:
    data = b""
    while chunk := conn.recv(4096):
        data += chunk
    return data.decode()


def refused_tcp(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=DEADLINE).close()
    except ConnectionRefusedError:
        return True
    return False


def fd0_inode(pid: int) -> int:
    link = os.readlink(f"/proc/{pid}/fd/0")
    assert link.startswith("socket:["), link
    return int(link[len("socket:[") : -1])


def open_files(pid: int) -> set[str]:
    """What the process's descriptors point at (one may close while we look)."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):
            found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return found


def inodes(daemon: DetachedDaemon, *names: str) -> set[int]:
    return {fd0_inode(daemon.info(name)["pid"]) for name in names}


def ctl(daemon: DetachedDaemon, *args: str) -> str:
    done = subprocess.run(
        [*ctl_command("vigil"), "-c", str(daemon.conf), *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=ctl_environment(),
    )
    return done.stdout + done.stderr


def start_fcgi(tmp: Path, port: int, sock: Path, **options: str) -> DetachedDaemon:
    (tmp / "fcgi_child.py").write_text(FCGI_CHILD)
    return DetachedDaemon(tmp, body(tmp, port, sock, **options))


def running(daemon: DetachedDaemon, *names: str) -> None:
    for name in names:
        daemon.wait_state(name, "RUNNING", timeout=DEADLINE)


def test_fcgi_programs_share_one_socket_as_fd0_and_answer(tmp_path: Path) -> None:
    port, sock = free_port(), tmp_path / "local.sock"
    daemon = start_fcgi(tmp_path, port, sock)
    daemon.start()
    try:
        running(daemon, "web:web_0", "web:web_1", "local:local")
        # both processes of the group hold the very same listening socket, which the daemon
        # holds too: one socket per group, not one per process
        shared = inodes(daemon, "web:web_0", "web:web_1")
        assert len(shared) == 1
        assert f"socket:[{shared.pop()}]" in open_files(daemon.pid)
        name, _ = ask_tcp(port).split()
        assert name in ("web_0", "web_1")
        assert ask_unix(sock).split()[0] == "local"
        # the socket file carries socket_mode and socket_owner
        info = sock.stat()
        assert stat.S_ISSOCK(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == 0o660
        assert (info.st_uid, info.st_gid) == owner()
        # stdout and stderr are captured as for any program; only stdin is the socket
        rpc = daemon.rpc().supervisor
        wait_until(lambda: "serving on" in rpc.readProcessStdoutLog("web:web_1", 0, 0))
        wait_until(lambda: "stderr is captured" in rpc.readProcessStderrLog("local", 0, 0))
    finally:
        daemon.stop()
    # shutdown closes the sockets: the port is free and the socket file is gone
    assert refused_tcp(port)
    assert not sock.exists()


def test_socket_is_kept_across_restarts_of_its_processes(tmp_path: Path) -> None:
    port, sock = free_port(), tmp_path / "local.sock"
    daemon = start_fcgi(tmp_path, port, sock).start()
    try:
        running(daemon, "web:web_0", "web:web_1")
        (before,) = inodes(daemon, "web:web_0", "web:web_1")
        # while every process of the group is stopped, a client still connects: it waits in
        # the backlog of the same socket and is answered once the processes are back
        assert "web:web_0: stopped" in ctl(daemon, "stop", "web:*")
        waiting = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        with waiting:
            assert "web:web_1: started" in ctl(daemon, "start", "web:*")
            assert read_answer(waiting).split()[1] == str(before)
        assert inodes(daemon, "web:web_0", "web:web_1") == {before}
        # and a plain restart keeps it too
        output = ctl(daemon, "restart", "all")
        assert "web:web_0: started" in output and "local: started" in output
        running(daemon, "web:web_0", "web:web_1", "local")
        assert inodes(daemon, "web:web_0", "web:web_1") == {before}
        assert ask_tcp(port).split()[1] == str(before)
        assert ask_unix(sock).split()[0] == "local"
    finally:
        daemon.stop()


def test_update_moves_recreates_and_removes_sockets(tmp_path: Path) -> None:
    port, sock = free_port(), tmp_path / "local.sock"
    daemon = start_fcgi(tmp_path, port, sock).start()
    try:
        running(daemon, "web:web_0", "web:web_1", "local")
        old_body = body(tmp_path, port, sock)
        # a new port and a new path: the old ones are given up, the new ones answer
        new_port, new_sock = free_port(), tmp_path / "moved.sock"
        edit(daemon, old_body, body(tmp_path, new_port, new_sock))
        output = ctl(daemon, "update")
        assert "web: updated process group" in output and "local: updated process group" in output
        running(daemon, "web:web_0", "web:web_1", "local")
        assert ask_tcp(new_port).split()[0] in ("web_0", "web_1")
        assert ask_unix(new_sock).split()[0] == "local"
        assert refused_tcp(port)
        assert not sock.exists()
        # only the mode changes: the group is changed, its socket made again with the new mode
        old_body = body(tmp_path, new_port, new_sock)
        edit(daemon, old_body, body(tmp_path, new_port, new_sock, mode="0600"))
        assert "local: updated process group" in ctl(daemon, "update")
        running(daemon, "local")
        assert stat.S_IMODE(new_sock.stat().st_mode) == 0o600
        assert ask_unix(new_sock).split()[0] == "local"
        # the sections are gone: the port is free again and the socket file removed
        edit(daemon, body(tmp_path, new_port, new_sock, mode="0600"), "")
        output = ctl(daemon, "update")
        assert "web: removed process group" in output and "local: removed process group" in output
        assert refused_tcp(new_port)
        assert not new_sock.exists()
        with socket.socket() as again:  # nothing listens there any more (TIME_WAIT aside)
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", new_port))
    finally:
        daemon.stop()


def edit(daemon: DetachedDaemon, old: str, new: str) -> None:
    text = daemon.conf.read_text()
    assert old in text
    daemon.conf.write_text(text.replace(old, new))


def test_a_socket_that_cannot_be_made_is_the_spawn_error(tmp_path: Path) -> None:
    (tmp_path / "fcgi_child.py").write_text(FCGI_CHILD)
    taken = tmp_path / "taken.sock"
    stale = tmp_path / "stale.sock"
    (tmp_path / "data").write_text("not a socket")
    sections = {
        "busyport": "tcp://127.0.0.1:{port}",
        "nodir": f"unix://{tmp_path}/missing/x.sock",
        "file": f"unix://{tmp_path}/data",
        "taken": f"unix://{taken}",
        "stale": f"unix://{stale}",
    }
    with (
        socket.socket() as occupier,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other_server,
    ):
        occupier.bind(("127.0.0.1", 0))
        occupier.listen()
        port = occupier.getsockname()[1]
        other_server.bind(str(taken))
        other_server.listen()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gone:
            gone.bind(str(stale))  # closed without unlinking: a stale file nobody listens on
        text = "".join(
            f"""
[fcgi-program:{name}]
command={PY} {tmp_path}/fcgi_child.py
socket={url.format(port=port)}
startsecs=0
startretries=0
"""
            for name, url in sections.items()
        )
        daemon = DetachedDaemon(tmp_path, text).start()
        try:
            reasons = {
                name: daemon.wait_state(name, "FATAL", timeout=DEADLINE)["description"]
                for name in ("busyport", "nodir", "file", "taken")
            }
            assert reasons == {
                "busyport": f"Could not create FastCGI socket tcp://127.0.0.1:{port}: "
                "[Errno 98] Address already in use",
                "nodir": f"Could not create FastCGI socket unix://{tmp_path}/missing/x.sock: "
                "[Errno 2] No such file or directory",
                "file": f"Could not create FastCGI socket unix://{tmp_path}/data: "
                f"{tmp_path}/data exists and is not a socket; refusing to replace it",
                "taken": f"Could not create FastCGI socket unix://{taken}: "
                f"another program is listening on {taken}",
            }
            assert (tmp_path / "data").read_text() == "not a socket"
            # a stale socket file is replaced
            running(daemon, "stale")
            assert ask_unix(stale).split()[0] == "stale"
            # the next spawn tries again: once the port is free, the program runs
            occupier.close()
            assert "busyport: started" in ctl(daemon, "start", "busyport")
            assert ask_tcp(port).split()[0] == "busyport"
            assert daemon.rpc().supervisor.getState()["statename"] == "RUNNING"
        finally:
            daemon.stop()


def test_reload_gives_the_sockets_back_and_makes_them_again(tmp_path: Path) -> None:
    port, sock = free_port(), tmp_path / "local.sock"
    daemon = start_fcgi(tmp_path, port, sock).start()
    try:
        running(daemon, "web:web_0", "web:web_1", "local")
        daemon.signal(signal.SIGHUP)
        wait_until(
            lambda: daemon.log.read_text().count("supervisord started with pid") == 2,
            DEADLINE,
            "the daemon to start again",
        )
        wait_until(daemon.answers, DEADLINE, "the daemon to answer again")
        running(daemon, "web:web_0", "web:web_1", "local")
        assert ask_tcp(port).split()[0] in ("web_0", "web_1")
        assert ask_unix(sock).split()[0] == "local"
        assert len(inodes(daemon, "web:web_0", "web:web_1")) == 1
    finally:
        daemon.stop()
