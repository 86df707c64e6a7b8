"""supervisorctl without a daemon to talk to: command line errors, help, unreachable servers.
Each case runs Supervisor 4.3.0's supervisorctl and vigil's and compares what they print and
how they exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ctl.harness import compare_without_daemon, run_ctl

MISSING_SOCKET = "unix:///nonexistent-vigil-test-dir/s.sock"
# Nothing listens on port 1 of the loopback interface: the connection is refused.
REFUSED = "http://127.0.0.1:1"


@pytest.mark.parametrize(
    "args",
    [
        ["-s", "foo", "status"],
        ["-s", "http:", "status"],
        ["-s", "http://[::1", "status"],
        ["--h"],
        ["--hist=x", "-z"],
        ["-i", "-i", "version"],
        ["-s", "unix:///a", "-s", "unix:///b"],
        ["-z"],
        ["-:"],
        ["--foo"],
        ["--serverurl"],
        ["-s"],
        ["--help=3"],
        ["--interactive=1"],
        ["--history-file=x"],
        ["-c", "/nonexistent-vigil-test.conf", "status"],
    ],
    ids=lambda args: " ".join(args),
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = compare_without_daemon(*args, status=2)
    assert result.stderr.startswith("Error: ")
    assert result.stderr.endswith("For help, use <PROG> -h\n")


@pytest.mark.parametrize("args", [["-h"], ["-?"], ["--help"], ["--he"], ["-s", "unix:///x", "-h"]])
def test_help_option_prints_usage_and_exits_0(args: list[str]) -> None:
    result = compare_without_daemon(*args, status=0)
    assert "Usage: <PROG> [options] [action [arguments]]" in result.stdout


def test_config_file_without_supervisorctl_section(tmp_path: Path) -> None:
    conf = tmp_path / "supervisord.conf"
    conf.write_text("[supervisord]\n")
    result = compare_without_daemon("-c", str(conf), "status", status=2)
    assert "supervisorctl section" in result.stderr


def test_config_server_url_is_used_and_command_line_wins(tmp_path: Path) -> None:
    conf = tmp_path / "supervisord.conf"
    conf.write_text(f"[supervisorctl]\nserverurl={MISSING_SOCKET}\nprompt=mine\n")
    compare_without_daemon("-c", str(conf), "status", status=4)
    compare_without_daemon("-c", str(conf), "-s", REFUSED, "status", status=4)


def test_ctlplugin_sections_are_ignored_with_one_warning(tmp_path: Path) -> None:
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        f"[supervisorctl]\nserverurl={MISSING_SOCKET}\n"
        "[ctlplugin:one]\nsupervisor.ctl_factory = some.module:make\n"
        "[ctlplugin:two]\nsupervisor.ctl_factory = other.module:make\n"
    )
    result = run_ctl("vigil", ["-c", str(conf), "version"])
    assert result.stdout == f"{MISSING_SOCKET} no such file\n"
    assert result.status == 7
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1
    assert "[ctlplugin:one]" in warnings[0] and "[ctlplugin:two]" in warnings[0]


def test_help_without_a_server() -> None:
    result = compare_without_daemon("-s", MISSING_SOCKET, "help", status=0)
    assert "default commands (type help <topic>):" in result.stdout


ACTIONS = [
    *("add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload"),
    *("remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail"),
    *("update", "version"),
]


def test_help_on_each_action_in_one_shell_session() -> None:
    topics = [*ACTIONS, "help", "EOF", "nosuch", "status x", "status"]
    script = "".join(f"help {topic}\n" for topic in topics if topic not in JSON_ACTIONS)
    compare_without_daemon("-s", MISSING_SOCKET, stdin=script, status=0)


JSON_ACTIONS = (
    *("status", "avail", "pid", "start", "stop", "restart", "signal", "clear", "add"),
    *("remove", "reread", "update", "tail", "maintail", "version"),
)


@pytest.mark.parametrize("topic", JSON_ACTIONS)
def test_help_on_actions_with_json_adds_lines_after_supervisors(topic: str) -> None:
    """vigil's help for actions with ``--json`` is Supervisor's, then lines documenting it."""
    theirs = run_ctl("supervisor", ["-s", MISSING_SOCKET, "help", topic])
    ours = run_ctl("vigil", ["-s", MISSING_SOCKET, "help", topic])
    assert ours.stdout.startswith(theirs.stdout)
    added = ours.stdout[len(theirs.stdout) :]
    assert f"{topic} --json" in added
    assert (ours.stderr, ours.status) == (theirs.stderr, theirs.status) == ("", 0)


LINES_NEEDING_NO_SERVER = [
    "bogus",
    "bogus arg",
    "STATUS",
    "!ls",
    "?",
    "? fg",  # (the help of actions with --json adds lines: compared above)
    "",
    "   ",
    "open ftp://x",
    "open",
    "shutdown x",
    "reload x",
    "version x",
    "avail x",
    "reread x",
]


def test_lines_needing_no_server_in_one_shell_session() -> None:
    script = "".join(line + "\n" for line in LINES_NEEDING_NO_SERVER)
    compare_without_daemon("-s", MISSING_SOCKET, stdin=script + "quit\n", status=0)


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("bogus", 1),
        ("!ls", 1),
        ("open ftp://x", 1),
        ("shutdown x", 1),
        ("", 0),
        ("quit", 0),
        ("EOF", 0),
        ("help help", 0),
    ],
)
def test_one_shot_lines_needing_no_server(line: str, status: int) -> None:
    compare_without_daemon("-s", MISSING_SOCKET, *(line.split() or [""]), status=status)


# Every action against a socket that does not exist, then a port that refuses: status says 4,
# actions that check the server first say 7 (no such file) or 4 (refused), the others print
# the raw connection error.
ACTION_LINES = [
    "status",
    "status x",
    "start x",
    "start",
    "stop x",
    "restart x",
    "signal HUP x",
    "pid",
    "pid x",
    "clear x",
    "tail x",
    "tail -f x",
    "maintail",
    "fg x",
    "version",
    "avail",
    "reread",
    "update",
    "add x",
    "remove x",
    "shutdown",
    "reload",
    "open unix:///nonexistent-vigil-test-dir/other.sock",
]


@pytest.mark.parametrize("url", [MISSING_SOCKET, REFUSED])
def test_actions_when_the_server_is_unreachable(url: str) -> None:
    script = "".join(line + "\n" for line in ACTION_LINES)
    compare_without_daemon("-s", url, stdin=script, status=0)


@pytest.mark.parametrize(
    ("url", "line", "status"),
    [
        (MISSING_SOCKET, "status", 4),
        (REFUSED, "status", 4),
        (MISSING_SOCKET, "stop x", 7),
        (REFUSED, "stop x", 4),
        (MISSING_SOCKET, "avail", 1),
        (MISSING_SOCKET, "shutdown", 1),
        (REFUSED, "shutdown", 1),
    ],
)
def test_unreachable_server_exit_statuses(url: str, line: str, status: int) -> None:
    compare_without_daemon("-s", url, *line.split(), status=status)


def test_unknown_protocol_in_server_url() -> None:
    result = compare_without_daemon("-s", "ftp://x", "status", status=1)
    assert "Unknown protocol for serverurl ftp://x" in result.stdout
