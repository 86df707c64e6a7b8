"""A child starts with a clean signal state whatever the daemon's own: nothing blocked,
ignored or caught (Python ignores SIGPIPE and SIGXFSZ; the daemon catches SIGCHLD, SIGTERM,
SIGHUP ...), on each way of spawning."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from vigil.runtime import spawn as spawn_module
from vigil.runtime.spawn import CATCHABLE, SpawnRequest, spawn

# Signals a process may handle: glibc keeps two real-time signals for itself (32 and 33),
# and a state of theirs inherited from the daemon's own parent is not the daemon's to reset.
HANDLED = sum(1 << (int(number) - 1) for number in CATCHABLE)


def signal_masks(pid: int) -> dict[str, int]:
    rows = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {
        key: int(value, 16) & HANDLED
        for key, _, value in (row.partition(":\t") for row in rows)
        if key in ("SigBlk", "SigIgn", "SigCgt")
    }


@pytest.mark.parametrize("directory", [None, "/"])
async def test_child_signal_state_is_clean(directory: str | None) -> None:
    loop = asyncio.get_running_loop()
    caught = (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR2)
    for number in caught:
        loop.add_signal_handler(number, lambda: None)
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN  # Python's own default
    try:
        child = spawn(
            SpawnRequest(
                "/bin/sleep",
                ["sleep", "30"],
                dict(os.environ),
                directory=directory,
                death_signal=signal.SIGTERM,
            )
        )
        try:
            assert signal_masks(child.pid) == {"SigBlk": 0, "SigIgn": 0, "SigCgt": 0}
        finally:
            os.kill(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
            for fd in (child.stdin, child.stdout, child.stderr):
                if fd is not None:
                    os.close(fd)
    finally:
        for number in caught:
            loop.remove_signal_handler(number)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="vfork and prctl are Linux's")
def test_the_compiled_spawn_is_built() -> None:
    """`make test` installs vigil with its C part; without it every spawn would pay for a
    fork of the whole daemon, and these tests would only have covered that slower path."""
    assert spawn_module._vfork_spawn is not None, "vigil.runtime._vfork_spawn was not built"
