"""``tail -f`` of several processes at once (``tail -f web:* api``), against a daemonized
Supervisor 4.3.0 and vigil: each line after its process's name padded to the longest and
`` | ``, a partial line held until its newline (or shown when its stream ends), Ctrl-C ending
every stream, names coloured only when asked and on a terminal. One process stays exactly as
Supervisor shows it (tests/ctl/test_ctl_logs.py compares that)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ctl.harness import (
    DEADLINE,
    Result,
    TestDaemon,
    ctl_command,
    ctl_environment,
    default_sigint,
    wait_for_text,
)
from tests.ctl.terminal import Terminal
from tests.support import wait_until

# web_0 and web_1 each print a line, then half a line that they finish once the test creates
# {dir}/go, then a last line without its newline; api prints on both channels.
WEB = (
    'sh -c \'echo "ready %(process_num)s"; printf part; '
    "while [ ! -e {dir}/go ]; do sleep 0.05; done; "
    'printf "ial %(process_num)s\\nafter %(process_num)s\\n"; printf tail-end; exec sleep 1000\''
)
PROGRAMS = f"""
[program:web]
command={WEB}
numprocs=2
process_name=web_%(process_num)s
startsecs=0

[program:api]
command=sh -c 'echo "api up"; echo "api err" >&2; exec sleep 1000'
startsecs=0
"""
SETTLED = {"web:web_0": "RUNNING", "web:web_1": "RUNNING", "api": "RUNNING"}
BANNER = "==> Press Ctrl-C to exit <==\n"
# Every line a follower of web:* and api prints: the name, padded to 9 (web:web_0), and " | ".
LINE = re.compile(r"(web:web_0|web:web_1|api      ) \| .*")


@pytest.fixture
def daemon(daemon_kind: str, start_daemonized: Callable[..., TestDaemon]) -> TestDaemon:
    started = start_daemonized(daemon_kind, PROGRAMS)
    started.wait_states(SETTLED)
    for name in ("web:web_0", "web:web_1", "api"):
        log = Path(started.rpc().supervisor.getProcessInfo(name)["stdout_logfile"])
        wait_for_text(log, "part" if name != "api" else "api up")
    return started


class Follower:
    """vigil's supervisorctl running ``args`` on the daemon, its output in files."""

    def __init__(self, daemon: TestDaemon, *args: str) -> None:
        self._scratch = tempfile.TemporaryDirectory()
        self.out_path = Path(self._scratch.name) / "out"
        self.err_path = Path(self._scratch.name) / "err"
        with self.out_path.open("w") as out, self.err_path.open("w") as err:
            self.proc = subprocess.Popen(
                [*ctl_command("vigil"), "-c", str(daemon.conf), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=ctl_environment(),
                preexec_fn=default_sigint,
            )

    def wait_for(self, *texts: str) -> str:
        return wait_until(
            lambda: all(t in (out := self.out_path.read_text()) for t in texts) and out,
            DEADLINE,
            f"{texts} in the output of supervisorctl",
        )

    def interrupt(self) -> Result:
        """Ctrl-C; what it printed and how it exited."""
        self.proc.send_signal(signal.SIGINT)
        return self.result()

    def result(self) -> Result:
        status = self.proc.wait(DEADLINE)
        return Result(self.out_path.read_text(), self.err_path.read_text(), status)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._scratch.cleanup()


@pytest.fixture
def follow() -> Iterator[Callable[..., Follower]]:
    followers: list[Follower] = []

    def start(daemon: TestDaemon, *args: str) -> Follower:
        follower = Follower(daemon, *args)
        followers.append(follower)
        return follower

    yield start
    for follower in followers:
        follower.close()


def test_several_processes_each_line_after_its_name(
    daemon: TestDaemon, follow: Callable[..., Follower]
) -> None:
    follower = follow(daemon, "tail", "-f", "web:*", "api")
    seen = follower.wait_for(
        "web:web_0 | ready 0\n", "web:web_1 | ready 1\n", "api       | api up\n"
    )
    assert "part" not in seen  # half a line: held until the rest comes
    (daemon.dir / "go").touch()
    follower.wait_for(
        "web:web_0 | partial 0\n",
        "web:web_0 | after 0\n",
        "web:web_1 | partial 1\n",
        "web:web_1 | after 1\n",
    )
    result = follower.interrupt()
    assert (result.stderr, result.status) == ("", 0), result
    assert result.stdout.startswith(BANNER) and result.stdout.endswith("\n\n"), result
    lines = result.stdout[len(BANNER) :].splitlines()[:-1]
    assert all(LINE.fullmatch(line) for line in lines), result
    assert "\x1b" not in result.stdout  # not a terminal: no colour
    assert "tail-end" not in result.stdout  # never finished, and Ctrl-C shows nothing more


def test_a_channel_for_all_and_names_that_mean_nothing(
    daemon: TestDaemon, follow: Callable[..., Follower]
) -> None:
    follower = follow(daemon, "tail", "-f", "api", "nosuch", "web:*", "nogroup:*", "stderr")
    follower.wait_for("api       | api err\n")
    result = follower.interrupt()
    assert result.stdout == f"{BANNER}api       | api err\n\n", result
    assert result.stderr == "nosuch: ERROR (no such process)\nnogroup: ERROR (no such group)\n"
    assert result.status == 1


def test_the_end_of_the_streams_ends_it_and_shows_what_was_held(
    daemon: TestDaemon, follow: Callable[..., Follower]
) -> None:
    follower = follow(daemon, "tail", "-f", "web:web_0", "api")
    follower.wait_for("web:web_0 | ready 0\n")
    (daemon.dir / "go").touch()
    follower.wait_for("web:web_0 | after 0\n")
    log = Path(daemon.rpc().supervisor.getProcessInfo("web:web_0")["stdout_logfile"])
    wait_for_text(log, "tail-end")
    daemon.rpc().supervisor.shutdown()  # every stream ends with the daemon
    result = follower.result()
    assert (result.stderr, result.status) == ("", 0), result
    assert result.stdout.endswith("web:web_0 | tail-end\n"), result


def test_json_lines(daemon: TestDaemon, follow: Callable[..., Follower]) -> None:
    follower = follow(daemon, "tail", "-f", "--json", "web:*", "api")
    follower.wait_for('"data": "ready 1"}\n', '"data": "api up"}\n')
    result = follower.interrupt()
    assert (result.stderr, result.status) == (f"{BANNER}\n", 0), result
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"name": "api", "channel": "stdout", "data": "api up"} in records
    assert {"name": "web:web_0", "channel": "stdout", "data": "ready 0"} in records
    assert all(set(r) == {"name", "channel", "data"} for r in records)
    # the main log, likewise
    follower = follow(daemon, "maintail", "-f", "--json")
    follower.wait_for(" INFO ")
    result = follower.interrupt()
    assert (result.stderr, result.status) == (f"{BANNER}\n", 0), result
    assert all(list(json.loads(line)) == ["data"] for line in result.stdout.splitlines())


def test_names_coloured_on_a_terminal_when_asked(
    start_daemonized: Callable[..., TestDaemon],
) -> None:
    daemon = start_daemonized("vigil", PROGRAMS)
    daemon.wait_states(SETTLED)
    base = [*ctl_command("vigil"), "-c", str(daemon.conf)]
    terminal = Terminal([*base, "--color=auto", "tail", "-f", "web:*", "api"], ctl_environment())
    try:
        terminal.expect_all(
            "\x1b[36mweb:web_0 |\x1b[0m ready 0\r\n",
            "\x1b[33mweb:web_1 |\x1b[0m ready 1\r\n",
            "\x1b[32mapi       |\x1b[0m api up\r\n",
        )
        terminal.send("\x03")
        assert terminal.wait() == 0
    finally:
        terminal.close()
    # colour is opt-in, as for status: none on a terminal without --color
    terminal = Terminal([*base, "tail", "-f", "web:*", "api"], ctl_environment())
    try:
        terminal.expect("api       | api up\r\n")
        terminal.send("\x03")
        assert terminal.wait() == 0
        assert "\x1b[" not in terminal.seen
    finally:
        terminal.close()


def test_ctrl_c_in_the_shell_ends_every_stream_and_returns_to_the_prompt(
    start_daemonized: Callable[..., TestDaemon],
) -> None:
    daemon = start_daemonized("vigil", PROGRAMS)
    daemon.wait_states(SETTLED)
    terminal = Terminal([*ctl_command("vigil"), "-c", str(daemon.conf)], ctl_environment())
    try:
        terminal.expect("supervisor> ")
        terminal.send("tail -f web:* api\n")
        terminal.expect("api       | api up\r\n")
        terminal.send("\x03")
        terminal.expect("supervisor> ")
        terminal.send("status api\n")
        terminal.expect("RUNNING")
        terminal.send("quit\n")
        assert terminal.wait() == 0
        assert "Traceback" not in terminal.seen and "Exception" not in terminal.seen
    finally:
        terminal.close()
