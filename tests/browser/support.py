"""Daemonized vigil daemons with a TCP server for a browser, and Debian's chromium driven by
Playwright.

The browser is the system's (``/usr/bin/chromium``, installed by ``make browser``): Playwright's
own download is never used. Each launch gets a fresh profile (Playwright makes a temporary
user-data-dir per browser and removes it after).
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.daemon.daemonized import Started, config
from tests.support import PY, unix_proxy, wait_until
from tests.web.support import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN = {"username": "admin", "password": "s3cret"}
VIEWER = {"username": "viewer", "password": "look-only"}
HERE = Path(__file__).resolve().parent
# axe-core 4.14.1 (MPL-2.0), axe.min.js from the npm package axe-core: used by the tests only
AXE = HERE / "axe.min.js"

SERVER = """
[inet_http_server]
port=127.0.0.1:{port}
username=admin
password=s3cret
readonly_username=viewer
readonly_password=look-only
"""


@dataclass
class BrowserDaemon:
    tmp: Path
    conf: Path
    port: int
    pid: int
    started: Started = field(default_factory=Started)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def sock(self) -> Path:
        return self.tmp / "s.sock"

    def rpc(self) -> Any:
        return unix_proxy(self.sock)

    def info(self, namespec: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.rpc().supervisor.getProcessInfo(namespec)
        return answer

    def wait_state(self, namespec: str, state: str) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            try:
                info = self.info(namespec)
            except OSError:
                return None
            return info if info["statename"] == state else None

        found: dict[str, Any] = wait_until(reached, what=f"{namespec} {state}")
        return found


def _launch(conf: Path) -> int | None:
    """The daemon's pid, or None when it could not start (its port was taken meanwhile)."""
    launched = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf)], capture_output=True, text=True, timeout=60
    )
    if launched.returncode != 0:
        if "address already in use" in (launched.stderr + launched.stdout).lower():
            return None
        raise AssertionError(launched.stderr)
    pidfile = conf.parent / "d.pid"
    return int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pid"))


@contextmanager
def browser_daemon(tmp: Path, programs: str) -> Iterator[BrowserDaemon]:
    """A daemonized daemon on ``programs`` with a TCP server on a free loopback port (a few
    tried: another test may take one between our finding it and the daemon binding it)."""
    for _ in range(5):
        port = free_port()
        conf = config(tmp, textwrap.dedent(programs) + SERVER.format(port=port))
        pid = _launch(conf)
        if pid is not None:
            break
    else:
        raise AssertionError("no free TCP port could be bound")
    daemon = BrowserDaemon(tmp, conf, port, pid)
    daemon.started.append(pid)
    wait_until(daemon.sock.exists, what="the daemon's socket")
    try:
        yield daemon
    finally:
        try:
            daemon.rpc().supervisor.shutdown()
            wait_until(lambda: not daemon.sock.exists(), what="the daemon's exit")
        finally:
            daemon.started.end()


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
