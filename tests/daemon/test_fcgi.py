"""fcgi-program end to end: one listening socket per group, made by the daemon, shared by every
process of the group as its fd 0, kept across restarts, moved and removed by `update`.

The daemon runs detached, as users run it; the programs are small Python servers that accept
on fd 0, and the clients are real TCP (127.0.0.1) and unix-socket connections.
"""

from __future__ import annotations

import os
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
        daemon_sockets = {
            os.readlink(f"/proc/{daemon.pid}/fd/{fd}")
            for fd in os.listdir(f"/proc/{daemon.pid}/fd")
        }
        assert f"socket:[{shared.pop()}]" in daemon_sockets
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
