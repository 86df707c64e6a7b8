"""Turning a raw wait status into what logs and the state machine report."""

from __future__ import annotations

import os
import signal


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_wait_status(status: int) -> tuple[int, str]:
    """(exit code, phrase): the code is -1 when a signal ended the child, as in Supervisor."""
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        return code, f"exit status {code}"
    if os.WIFSIGNALED(status):
        phrase = f"terminated by {signal_name(os.WTERMSIG(status))}"
        if os.WCOREDUMP(status):
            phrase += " (core dumped)"
        return -1, phrase
    return -1, f"unknown termination cause 0x{status:04x}"


def exit_signal(status: int) -> int | None:
    """The signal that ended the child, None when it exited by itself."""
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
