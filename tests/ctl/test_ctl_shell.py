"""vigil's supervisorctl shell on a pseudo-terminal: the prompt, completion, history, Ctrl-C
out of ``tail -f`` and ``fg``, the password prompt, colour (only when asked for)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ctl.harness import (
    PASSWORD,
    PY,
    USERNAME,
    TestDaemon,
    ctl_command,
    ctl_environment,
    wait_for_text,
)
from tests.ctl.terminal import Terminal

PROGRAMS = f"""
[program:sleeper]
command=sleep 1000
startsecs=0

[program:echoer]
command={PY} -u -c "print('hello out'); import time; time.sleep(1000)"
startsecs=0

[program:repeater]
command={PY} -u -c "import sys; [print('got', line.strip()) for line in sys.stdin]"
startsecs=0

[group:grp]
programs=manual

[program:manual]
command=sleep 1000
autostart=false
"""
PROMPT = "vigiltest> "


@pytest.fixture
def daemon(daemon_kind: str, start_daemon: Callable[..., TestDaemon]) -> TestDaemon:
    started = start_daemon(daemon_kind, PROGRAMS, inet=True)
    started.wait_states({"sleeper": "RUNNING", "echoer": "RUNNING", "repeater": "RUNNING"})
    log = Path(started.rpc().supervisor.getProcessInfo("echoer")["stdout_logfile"])
    wait_for_text(log, "hello out")
    return started


@pytest.fixture
def open_terminal() -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def start(args: list[str], **env: str) -> Terminal:
        environment = ctl_environment({"TERM": "xterm", "INPUTRC": "/dev/null", **env})
        terminal = Terminal([*ctl_command("vigil"), *args], environment)
        opened.append(terminal)
        return terminal

    yield start
    for terminal in opened:
        terminal.close()


def _ctl_config(daemon: TestDaemon, tmp_path: Path) -> Path:
    conf = tmp_path / "ctl.conf"
    conf.write_text(
        f"[supervisorctl]\nserverurl={daemon.serverurl}\nprompt=vigiltest\n"
        f"history_file={tmp_path}/history\n"
    )
    return conf


def test_prompt_completion_history_and_ctrl_c(
    daemon: TestDaemon, tmp_path: Path, open_terminal: Callable[..., Terminal]
) -> None:
    terminal = open_terminal(["-c", str(_ctl_config(daemon, tmp_path))], NO_COLOR="1")
    first = terminal.expect(PROMPT)
    assert "sleeper                          RUNNING   pid " in first  # status runs first
    assert "\x1b[" not in first.replace("\x1b[?1034h", "").split("sleeper")[1]

    terminal.send("vers\t")  # an action name completes
    terminal.expect("version ")
    terminal.send("\r")
    terminal.expect("4.3.0")
    terminal.expect(PROMPT)

    terminal.send("status sle\t")  # a process name completes
    terminal.expect("status sleeper ")
    terminal.send("\r")
    terminal.expect("RUNNING")
    terminal.expect(PROMPT)

    terminal.send("stop grp:m\t")  # a process of a group completes with its group
    terminal.expect("stop grp:manual ")
    terminal.send("\r")
    terminal.expect("grp:manual: ERROR (not running)")
    terminal.expect(PROMPT)

    terminal.send("tail -f echoer\r")  # Ctrl-C leaves tail -f, not the shell
    terminal.expect("==> Press Ctrl-C to exit <==")
    terminal.expect("hello out")
    terminal.send("\x03")
    terminal.expect(PROMPT)

    terminal.send("quit\r")
    assert terminal.wait() == 0
    history = (tmp_path / "history").read_text()
    assert "version" in history and "status sleeper" in history and "quit" in history


def test_history_is_read_back(
    daemon: TestDaemon, tmp_path: Path, open_terminal: Callable[..., Terminal]
) -> None:
    (tmp_path / "history").write_text("version\n")
    terminal = open_terminal(["-c", str(_ctl_config(daemon, tmp_path))])
    terminal.expect(PROMPT)
    terminal.send("\x1b[A\r")  # arrow up: the last line of the history file
    terminal.expect("4.3.0")
    terminal.expect(PROMPT)
    terminal.send("\x04")  # Ctrl-D
    assert terminal.wait() == 0


def test_fg_sends_input_and_ctrl_c_returns_to_the_prompt(
    daemon: TestDaemon, open_terminal: Callable[..., Terminal]
) -> None:
    terminal = open_terminal(["-s", daemon.serverurl])
    terminal.expect("supervisor> ")
    terminal.send("fg repeater\r")
    terminal.expect("==> Press Ctrl-C to exit <==")
    terminal.send("ping\r")
    terminal.expect("got ping")
    terminal.send("\x03")
    terminal.expect("Exiting foreground")
    terminal.expect("supervisor> ")
    terminal.send("exit\r")
    assert terminal.wait() == 0


def test_password_prompt_on_401(
    daemon: TestDaemon, open_terminal: Callable[..., Terminal]
) -> None:
    terminal = open_terminal(["-s", daemon.inet_url])
    terminal.expect("Server requires authentication")
    terminal.expect("Username:")
    terminal.send(USERNAME + "\r")
    terminal.expect("Password:")
    terminal.send(PASSWORD + "\r")
    after_login = terminal.expect("supervisor> ")
    assert "sleeper" in after_login and "RUNNING" in after_login
    assert PASSWORD not in terminal.seen  # not echoed
    terminal.send("version\r")
    terminal.expect("4.3.0")
    terminal.expect("supervisor> ")
    assert terminal.interrupt_at_prompt() == 0  # Ctrl-C at the prompt ends the shell, status 0


def test_status_is_plain_on_a_terminal_by_default(
    daemon: TestDaemon, open_terminal: Callable[..., Terminal]
) -> None:
    """Supervisor #664's end-to-end test reads ``status`` through a pseudo-terminal, as expect
    and pexpect scripts do: without asking for colour, the text is exactly Supervisor's."""
    terminal = open_terminal(["-s", daemon.serverurl, "status"])
    assert terminal.wait() == 3
    assert "sleeper                          RUNNING   pid " in terminal.seen
    assert "\x1b" not in terminal.seen


def test_status_state_is_coloured_on_a_terminal_with_color_auto(
    daemon: TestDaemon, open_terminal: Callable[..., Terminal]
) -> None:
    terminal = open_terminal(["--color=auto", "-s", daemon.serverurl, "status"])
    assert terminal.wait() == 3
    assert "sleeper                          \x1b[32mRUNNING\x1b[0m   pid " in terminal.seen
    assert "grp:manual                       STOPPED   Not started" in terminal.seen


def test_color_auto_honours_no_color(
    daemon: TestDaemon, open_terminal: Callable[..., Terminal]
) -> None:
    terminal = open_terminal(["--color=auto", "-s", daemon.serverurl, "status"], NO_COLOR="1")
    assert terminal.wait() == 3
    assert "sleeper                          RUNNING   pid " in terminal.seen
    assert "\x1b" not in terminal.seen
