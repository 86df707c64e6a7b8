"""What the runtime needs from the services above it, as protocols (dependency inversion).

The runtime moves bytes and decides nothing about formats; the services implement these.
"""

from __future__ import annotations

from typing import Protocol

from vigil.config.model import LogLevel


class MainLog(Protocol):
    """The daemon's activity log (Supervisor's main log)."""

    def log(self, level: LogLevel, message: str) -> None: ...


class OutputSink(Protocol):
    """Where one channel (stdout or stderr) of one child goes, chunk by chunk, in order."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...
