"""The status page's actions: each one performed through the RPC registry, as an XML-RPC client
would perform it, and answered with the message Supervisor's web UI shows for it.

Going through the registry (never the supervisor directly) keeps the web UI's behaviour and
errors the same as every other wire's. The messages are a contract: dashboards and scripts
read them from the ``?message=`` of the redirect that follows an action.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from vigil.faults import Faults, RPCError

PAGE_ACTIONS = ("refresh", "restartall", "stopall")
PROCESS_ACTIONS = ("start", "stop", "restart", "clearlog")


class RpcCaller(Protocol):
    """What the web UI needs of the RPC registry: one call by name, as any wire makes it."""

    async def call(self, name: object, params: Sequence[object]) -> Any: ...


class BadAction(ValueError):
    """The request named no action this page knows, or a process action without a process.

    Supervisor answers these with a 500 (an uncaught ValueError); they are the client's
    mistake, so they become a 400 that says what was wrong.
    """


def fault_text(fault: RPCError) -> str:
    """How Supervisor's web UI words a fault it has no message of its own for."""
    return f"unexpected rpc fault [{int(fault.code)}] {fault.text}"


_START_FAULTS = {
    Faults.NO_FILE: "no such file",
    Faults.NOT_EXECUTABLE: "file not executable",
    Faults.ALREADY_STARTED: "already started",
    Faults.SPAWN_ERROR: "spawn error",
    Faults.ABNORMAL_TERMINATION: "abnormal termination",
}

ProcessAction = Callable[[RpcCaller, str], Awaitable[str]]


async def _start(rpc: RpcCaller, namespec: str) -> str:
    try:
        await rpc.call("supervisor.startProcess", [namespec, True])
    except RPCError as fault:
        reason = _START_FAULTS.get(fault.code) or fault_text(fault)
        return f"ERROR: Process {namespec}: {reason}"
    return f"Process {namespec} started"


async def _stop(rpc: RpcCaller, namespec: str) -> str:
    try:
        await rpc.call("supervisor.stopProcess", [namespec, True])
    except RPCError as fault:
        return fault_text(fault)  # without "ERROR:", as Supervisor words it
    return f"Process {namespec} stopped"


async def _restart(rpc: RpcCaller, namespec: str) -> str:
    # A multicall, as Supervisor makes it: the start is tried even when the stop fails (a
    # stopped process is "restarted" by starting it), and neither outcome changes the message.
    await rpc.call(
        "system.multicall",
        [
            [
                {"methodName": "supervisor.stopProcess", "params": [namespec]},
                {"methodName": "supervisor.startProcess", "params": [namespec]},
            ]
        ],
    )
    return f"Process {namespec} restarted"


async def _clear_log(rpc: RpcCaller, namespec: str) -> str:
    try:
        await rpc.call("supervisor.clearProcessLogs", [namespec])
    except RPCError as fault:
        return fault_text(fault)
    return f"Log for {namespec} cleared"


_PROCESS_ACTIONS: dict[str, ProcessAction] = {
    "start": _start,
    "stop": _stop,
    "restart": _restart,
    "clearlog": _clear_log,
}


async def _names_a_process(rpc: RpcCaller, namespec: str) -> bool:
    """Whether the namespec is one process (a group, ``g:*`` or an unknown name is not).

    A fault other than BAD_NAME (the daemon shutting down) says nothing about the name: the
    action itself then reports it.
    """
    try:
        await rpc.call("supervisor.getProcessInfo", [namespec])
    except RPCError as fault:
        return fault.code != Faults.BAD_NAME
    return True


async def precheck(
    rpc: RpcCaller,
    action: str,
    namespec: str | None,
    *,
    ctime: Callable[[], str] = time.ctime,
) -> str | None:
    """What ``index.html?action=...`` answers without changing anything: the message when
    that is all there is to it (a refresh, an unknown process), None when the action would
    act. Raises BadAction for an action that cannot be done, in `perform`'s order.
    """
    if action == "refresh":
        return f"Page refreshed at {ctime()}"
    if action in ("stopall", "restartall"):
        return None
    if namespec:
        if not await _names_a_process(rpc, namespec):
            return f"No such process named {namespec}"
        if action in _PROCESS_ACTIONS:
            return None
    elif action in _PROCESS_ACTIONS:
        raise BadAction(f"action {action!r} needs a processname parameter naming the process")
    known = ", ".join(PAGE_ACTIONS + PROCESS_ACTIONS)
    raise BadAction(f"unknown action {action!r} (the actions are {known})")


async def perform(
    rpc: RpcCaller,
    action: str,
    namespec: str | None,
    *,
    ctime: Callable[[], str] = time.ctime,
) -> str:
    """Do what ``index.html?action=...`` asks, waiting for it as Supervisor does (a start
    until RUNNING or failure, a stop until stopped), and return the message to show.

    The checks come in Supervisor's order: a page action ignores the process name; an
    unknown process is reported before an unknown action. Raises BadAction.
    """
    answer = await precheck(rpc, action, namespec, ctime=ctime)
    if answer is not None:
        return answer
    if action == "stopall":
        try:
            await rpc.call("supervisor.stopAllProcesses", [True])
        except RPCError as fault:
            return f"ERROR: {fault_text(fault)}"
        return f"All stopped at {ctime()}"
    if action == "restartall":
        await rpc.call(
            "system.multicall",
            [
                [
                    {"methodName": "supervisor.stopAllProcesses"},
                    {"methodName": "supervisor.startAllProcesses"},
                ]
            ],
        )
        return f"All restarted at {ctime()}"
    assert namespec  # precheck let only these through
    return await _PROCESS_ACTIONS[action](rpc, namespec)
