"""Starting in a broken environment: one line on stderr and a non-zero exit, never a
traceback, and nothing left behind (no socket file, pidfile or process), daemonized and -n.

Each case breaks one thing a real host gets wrong: a missing or read-only directory, a port
or socket already taken, a file where the socket goes, a directory the daemon's user may not
write. The daemon must say so on the terminal before it detaches.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.support import PY, wait_until

pytestmark = pytest.mark.skipif(
    os.getuid() != 0, reason="read-only mounts and another user= need root"
)


@dataclass
class Host:
    """A scratch directory every user can reach, with a read-only mount inside."""

    root: Path
    readonly: Path
    held: list[socket.socket] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    extra: str = ""

    def path(self, name: str) -> Path:
        return self.root / name

    def config(self) -> Path:
        values = {
            "file": str(self.path("s.sock")),
            "logfile": str(self.path("d.log")),
            "pidfile": str(self.path("d.pid")),
            "childlogdir": str(self.root),
            "user": "",
        }
        values.update(self.options)
        user = f"user={values['user']}" if values["user"] else ""
        conf = self.path("supervisord.conf")
        conf.write_text(
            textwrap.dedent(
                f"""
                [unix_http_server]
                file={values["file"]}

                [supervisord]
                logfile={values["logfile"]}
                pidfile={values["pidfile"]}
                childlogdir={values["childlogdir"]}
                {user}

                [program:sleeper]
                command=sleep 600
                startsecs=0
                """
            )
            + textwrap.dedent(self.extra)
        )
        return conf


@pytest.fixture
def host() -> Iterator[Host]:
    root = Path(tempfile.mkdtemp(prefix="vigil-startup-"))
    os.chmod(root, 0o777)  # the user= case runs as nobody
    readonly = root / "ro"
    readonly.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(readonly)], check=True
    )
    made = Host(root, readonly)
    try:
        yield made
    finally:
        for held in made.held:
            held.close()
        subprocess.run(["umount", "-l", str(readonly)], check=False)
        shutil.rmtree(root, ignore_errors=True)


# the broken environments: each arranges the host and returns what stderr must say


def readonly_childlogdir(host: Host) -> str:
    host.options["childlogdir"] = str(host.readonly)
    return f"childlogdir {host.readonly}: Read-only file system"


def readonly_log_directory(host: Host) -> str:
    host.options["logfile"] = str(host.readonly / "d.log")
    return f"{host.readonly / 'd.log'}: Read-only file system"


def missing_childlogdir(host: Host) -> str:
    host.options["childlogdir"] = str(host.path("gone"))
    return f"{host.path('gone')} is not an existing directory"


def missing_log_directory(host: Host) -> str:
    host.options["logfile"] = str(host.path("gone/d.log"))
    return f"{host.path('gone/d.log')} does not exist"


def socket_in_a_missing_directory(host: Host) -> str:
    host.options["file"] = str(host.path("gone/s.sock"))
    return f"directory {host.path('gone')} does not exist"


def occupied_port(host: Host) -> str:
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen(1)
    host.held.append(squatter)
    host.extra = f"[inet_http_server]\nport=127.0.0.1:{squatter.getsockname()[1]}\n"
    return "Another program is already listening"


def occupied_socket(host: Host) -> str:
    squatter = socket.socket(socket.AF_UNIX)
    squatter.bind(str(host.path("s.sock")))
    squatter.listen(1)
    host.held.append(squatter)
    return "Another program is already listening"


def file_at_the_socket_path(host: Host) -> str:
    host.path("s.sock").write_text("not a socket")
    return f"{host.path('s.sock')} exists and is not a socket"


def stale_socket_and_readonly_childlogdir(host: Host) -> str:
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(host.path("s.sock")))
    stale.close()  # the file stays, nothing listens
    return readonly_childlogdir(host)


def childlogdir_the_user_may_not_write(host: Host) -> str:
    private = host.path("private")
    private.mkdir(mode=0o755)  # root's, and nobody may not write in it
    host.options.update(childlogdir=str(private), user="nobody")
    return f"childlogdir {private}: Permission denied"


CASES: list[Callable[[Host], str]] = [
    readonly_childlogdir,
    readonly_log_directory,
    missing_childlogdir,
    missing_log_directory,
    socket_in_a_missing_directory,
    occupied_port,
    occupied_socket,
    file_at_the_socket_path,
    stale_socket_and_readonly_childlogdir,
    childlogdir_the_user_may_not_write,
]


def _files(host: Host) -> dict[str, int]:
    """Every file under the scratch directory with its inode (the read-only mount aside)."""
    found: dict[str, int] = {}
    for directory, _dirs, names in os.walk(host.root):
        for name in names:
            path = os.path.join(directory, name)
            found[path] = os.lstat(path).st_ino
    return found


def _daemons_of(conf: Path) -> list[psutil.Process]:
    alive = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if str(conf) in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            alive.append(process)
    return alive


@pytest.mark.parametrize("mode", ["daemonized", "foreground"])
@pytest.mark.parametrize("breakage", CASES, ids=[case.__name__ for case in CASES])
def test_a_broken_environment_gives_one_line_and_leaves_nothing(
    host: Host, breakage: Callable[[Host], str], mode: str
) -> None:
    expected = breakage(host)
    conf = host.config()
    before = _files(host)
    command = [PY, "-m", "vigil", "-c", str(conf)] + (["-n"] if mode == "foreground" else [])
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=host.root)
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert expected in lines[0]
    wait_until(lambda: not _daemons_of(conf), timeout=30, what="no daemon left running")
    after = _files(host)
    # nothing new but the main log; what was there (a squatter's socket, a stale file) stays
    made = {path for path in after if path not in before} - {str(host.path("d.log"))}
    assert made == set(), made
    assert {p: after.get(p) for p in before} == before
