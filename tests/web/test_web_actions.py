"""Each action's message for outcomes a live daemon cannot be driven into on demand (a start
that ends in abnormal termination, faults of a daemon shutting down), with a registry
stand-in that answers each method as scripted and records what it was asked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from vigil.faults import Faults, RPCError
from vigil.http.web import tail_limit
from vigil.http.web_actions import BadAction, perform


class ScriptedRegistry:
    def __init__(self, **faults: RPCError) -> None:
        self.faults = faults  # method (without "supervisor.") -> the fault it raises
        self.calls: list[tuple[str, list[object]]] = []

    async def call(self, name: object, params: Sequence[object]) -> Any:
        assert isinstance(name, str)
        self.calls.append((name, list(params)))
        fault = self.faults.get(name.removeprefix("supervisor."))
        if fault is not None:
            raise fault
        return True


def ctime() -> str:
    return "Sat Nov 21 07:30:04 2026"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (RPCError(Faults.ABNORMAL_TERMINATION, "x"), "ERROR: Process x: abnormal termination"),
        (RPCError(Faults.SPAWN_ERROR, "x"), "ERROR: Process x: spawn error"),
        (RPCError(Faults.NO_FILE, "/bin/x"), "ERROR: Process x: no such file"),
        (RPCError(Faults.NOT_EXECUTABLE, "/bin/x"), "ERROR: Process x: file not executable"),
        (RPCError(Faults.ALREADY_STARTED, "x"), "ERROR: Process x: already started"),
        (
            RPCError(Faults.FAILED, "x is in an unknown process state"),
            "ERROR: Process x: unexpected rpc fault [30] FAILED: x is in an unknown process state",
        ),
    ],
)
async def test_start_words_each_fault_as_supervisor(fault: RPCError, message: str) -> None:
    registry = ScriptedRegistry(startProcess=fault)
    assert await perform(registry, "start", "x") == message
    assert registry.calls[-1] == ("supervisor.startProcess", ["x", True])


async def test_stop_and_clearlog_faults_have_no_error_prefix() -> None:
    registry = ScriptedRegistry(
        stopProcess=RPCError(Faults.SHUTDOWN_STATE),
        clearProcessLogs=RPCError(Faults.FAILED, "x"),
    )
    assert await perform(registry, "stop", "x") == "unexpected rpc fault [6] SHUTDOWN_STATE"
    assert await perform(registry, "clearlog", "x") == "unexpected rpc fault [30] FAILED: x"


async def test_an_unknown_name_is_reported_only_for_bad_name() -> None:
    unknown = ScriptedRegistry(getProcessInfo=RPCError(Faults.BAD_NAME, "x"))
    assert await perform(unknown, "stop", "x") == "No such process named x"
    assert [name for name, _ in unknown.calls] == ["supervisor.getProcessInfo"]
    # shutting down says nothing about the name: the action runs and reports the fault
    closing = ScriptedRegistry(
        getProcessInfo=RPCError(Faults.SHUTDOWN_STATE),
        startProcess=RPCError(Faults.SHUTDOWN_STATE),
    )
    assert await perform(closing, "start", "x") == (
        "ERROR: Process x: unexpected rpc fault [6] SHUTDOWN_STATE"
    )


async def test_restarts_are_multicalls_whose_outcome_does_not_change_the_message() -> None:
    registry = ScriptedRegistry()
    assert await perform(registry, "restart", "g:x") == "Process g:x restarted"
    assert registry.calls[-1] == (
        "system.multicall",
        [
            [
                {"methodName": "supervisor.stopProcess", "params": ["g:x"]},
                {"methodName": "supervisor.startProcess", "params": ["g:x"]},
            ]
        ],
    )
    assert await perform(registry, "restartall", None, ctime=ctime) == (
        "All restarted at Sat Nov 21 07:30:04 2026"
    )


async def test_page_actions_ignore_the_process_name() -> None:
    registry = ScriptedRegistry(getProcessInfo=RPCError(Faults.BAD_NAME, "nope"))
    assert await perform(registry, "refresh", "nope", ctime=ctime) == (
        "Page refreshed at Sat Nov 21 07:30:04 2026"
    )
    assert await perform(registry, "stopall", "nope", ctime=ctime) == (
        "All stopped at Sat Nov 21 07:30:04 2026"
    )
    assert registry.calls == [("supervisor.stopAllProcesses", [True])]


async def test_stopall_while_shutting_down_says_so() -> None:
    registry = ScriptedRegistry(stopAllProcesses=RPCError(Faults.SHUTDOWN_STATE))
    assert await perform(registry, "stopall", None) == (
        "ERROR: unexpected rpc fault [6] SHUTDOWN_STATE"
    )


@pytest.mark.parametrize(
    ("action", "namespec", "says"),
    [
        ("start", None, "action 'start' needs a processname"),
        ("clearlog", "", "action 'clearlog' needs a processname"),
        ("bogus", None, "unknown action 'bogus'"),
        ("bogus", "x", "unknown action 'bogus'"),
    ],
)
async def test_bad_actions_raise_bad_action(action: str, namespec: str | None, says: str) -> None:
    registry = ScriptedRegistry()
    with pytest.raises(BadAction, match=says):
        await perform(registry, action, namespec)
    assert not [name for name, _ in registry.calls if name != "supervisor.getProcessInfo"]


@pytest.mark.parametrize(
    ("raw", "limit"),
    [
        (None, 1024),
        ("", 1024),
        ("12", 1024),
        ("4096", 4096),
        ("-5", 1024),
        ("1e9", 1024),
        ("\u0661\u0662\u0663\u0664\u0665", 1024),
        ("9" * 19, 999_999_999_999_999_999),
    ],
)
def test_tail_limit(raw: str | None, limit: int) -> None:
    assert tail_limit(raw) == limit
