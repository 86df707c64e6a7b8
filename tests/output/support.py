"""Shared pieces of the output tests: a main log in memory, a real child writing into a pipe,
and Supervisor 4.3.0 run as a subprocess for differential checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vigil.config.model import LogLevel
from vigil.core.ports import OutputSink

REPO = Path(__file__).resolve().parents[2]
SUPERVISOR_PYTHON = REPO / ".venv-supervisor" / "bin" / "python"
READ_SIZE = 65536


class MemoryLog:
    """A MainLog that remembers what it was told."""

    def __init__(self) -> None:
        self.lines: list[tuple[LogLevel, str]] = []

    def log(self, level: LogLevel, message: str) -> None:
        self.lines.append((level, message))

    def at(self, level: LogLevel) -> list[str]:
        return [message for lvl, message in self.lines if lvl == level]


def supervisor_python() -> Path:
    if not SUPERVISOR_PYTHON.exists():
        pytest.fail(
            f"the Supervisor 4.3.0 reference is missing at {SUPERVISOR_PYTHON}: "
            "run `make supervisor-ref`"
        )
    return SUPERVISOR_PYTHON


def run_reference(script: str, payload: Any) -> Any:
    """Run ``script`` with Supervisor's Python; it reads JSON on stdin and prints JSON."""
    done = subprocess.run(
        [str(supervisor_python()), "-c", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"reference script failed:\n{done.stderr}"
    return json.loads(done.stdout)


def child_writing(code: str) -> subprocess.Popen[bytes]:
    """A real child process running Python ``code`` with its stdout on a pipe."""
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)


def pump(child: subprocess.Popen[bytes], sink: OutputSink, read_size: int = READ_SIZE) -> int:
    """Move the child's stdout into ``sink`` the way the runtime does: large reads, in order,
    until end of file; then close the sink and reap the child. Returns the bytes moved."""
    assert child.stdout is not None
    fd = child.stdout.fileno()
    total = 0
    while data := os.read(fd, read_size):
        total += len(data)
        sink.write(data)
    sink.close()
    child.stdout.close()
    assert child.wait(timeout=60) == 0
    return total


def numbered_lines(count: int, width: int = 20) -> bytes:
    """Output whose every byte says where it belongs, so order and gaps are visible."""
    return b"".join(b"%0*d\n" % (width - 1, n) for n in range(count))


def child_printing(data_expr: str, piece: int) -> str:
    """Code for a child that writes the bytes ``data_expr`` evaluates to, ``piece`` at a time."""
    return (
        "import os\n"
        f"data = {data_expr}\n"
        f"for i in range(0, len(data), {piece}):\n"
        f"    os.write(1, data[i:i + {piece}])\n"
    )
