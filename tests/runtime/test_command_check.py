"""exec: checks on callbacks (probes.CommandCheck) with real commands: what they see, a
command writing more than a pipe holds, the timeout and a cancel killing the whole process
group, a descendant holding the output, and a command found once and searched again."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import psutil

from tests.runtime.conftest import PY, Harness
from vigil.config.model import ProcessConfig
from vigil.config.probes import Probe, ProbeKind
from vigil.runtime.probes import (
    EOF_GRACE,
    CommandCheck,
    FoundCommand,
    ProbeResult,
    ProbeTarget,
    start_check,
)


def target(harness: Harness, **env: str) -> ProbeTarget:
    return ProbeTarget(
        ProcessConfig(name="p", group="p", command="sleep 1"),
        {**os.environ, **env},
        harness.reaper,
    )


async def check(
    harness: Harness, command: str | FoundCommand, timeout: float = 10, **env: str
) -> ProbeResult:
    result: asyncio.Future[ProbeResult] = harness.loop.create_future()
    CommandCheck(command, target(harness, **env), timeout, result.set_result)
    return await asyncio.wait_for(result, 30)


async def test_the_output_and_the_exit_status_are_the_result(harness: Harness) -> None:
    assert await check(harness, "/bin/sh -c 'echo fine; echo also >&2'") == ProbeResult(
        True, "fine\nalso"
    )
    assert await check(harness, "/bin/sh -c 'exit 3'") == ProbeResult(False, "exit status 3")
    assert await check(harness, "/bin/sh -c 'read line; echo \"[$line]\"'") == ProbeResult(
        True, "[]"
    )  # stdin reads end of file at once
    missing = await check(harness, "no-such-command-anywhere")
    assert not missing.passed and "can't find command" in missing.output


async def test_a_command_writing_more_than_a_pipe_holds_is_read_as_it_writes(
    harness: Harness,
) -> None:
    result = await check(harness, f"{PY} -c \"import sys; sys.stdout.write('x' * 300000)\"")
    assert result.passed and result.output == "x" * 4096  # the first OUTPUT_LIMIT bytes


async def test_the_timeout_kills_the_command_and_what_it_started(
    harness: Harness, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    result = await check(harness, f"/bin/sh -c 'sleep 60 & echo $! > {pids}; wait'", 0.5)
    assert result == ProbeResult(False, "timed out after 0.5 seconds; killed")
    child = int(pids.read_text())
    await harness.until(lambda: not psutil.pid_exists(child) or _zombie(child))


async def test_a_cancelled_check_kills_its_command_and_says_nothing(
    harness: Harness, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    results: list[ProbeResult] = []
    running = CommandCheck(
        f"/bin/sh -c 'echo $$ > {pids}; exec sleep 60'", target(harness), 10, results.append
    )
    await harness.until(lambda: pids.exists() and pids.read_text().strip() != "")
    running.cancel()
    pid = int(pids.read_text())
    await harness.until(lambda: not psutil.pid_exists(pid) or _zombie(pid))
    assert results == []


async def test_output_held_by_a_descendant_is_waited_for_a_grace_only(
    harness: Harness,
) -> None:
    started = harness.loop.time()
    result = await check(harness, "/bin/sh -c 'echo parent; (sleep 30 &) ; exit 1'")
    assert result == ProbeResult(False, "parent")
    assert harness.loop.time() - started >= EOF_GRACE  # its exit, then the grace


async def test_a_command_found_once_is_searched_again_when_it_is_gone(
    harness: Harness, tmp_path: Path
) -> None:
    script = tmp_path / "probe-me"
    script.write_text("#!/bin/sh\necho here\n")
    script.chmod(0o755)
    path = f"{tmp_path}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    found = FoundCommand("probe-me")
    assert await check(harness, found, PATH=path) == ProbeResult(True, "here")
    assert found.found is not None and found.found[0] == str(script)
    script.unlink()
    gone = await check(harness, found, PATH=path)
    assert gone == ProbeResult(False, "can't find command 'probe-me'")
    assert found.found is None


async def test_a_socket_check_runs_through_the_same_call(harness: Harness) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    result: asyncio.Future[ProbeResult] = harness.loop.create_future()
    probe = Probe(ProbeKind.TCP, f"tcp://127.0.0.1:{port}", host="127.0.0.1", port=port)
    start_check(probe, target(harness), 5, result.set_result)
    assert (await asyncio.wait_for(result, 10)).passed
    server.close()
    await server.wait_closed()


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
