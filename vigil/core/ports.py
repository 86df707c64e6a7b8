"""What the runtime needs from the services above it, as protocols (dependency inversion).

The runtime moves bytes and decides nothing about formats; the services implement these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vigil.config.model import LogLevel


class MainLog(Protocol):
    """The daemon's activity log (Supervisor's main log)."""

    def log(self, level: LogLevel, message: str) -> None: ...


class OutputSink(Protocol):
    """Where one channel (stdout or stderr) of one child goes, chunk by chunk, in order."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class LogFollower(Protocol):
    """Someone reading a log live (a tail, a stream): told of each chunk as it is written."""

    def written(self, data: bytes) -> None: ...

    def truncated(self) -> None:
        """The log was cleared."""

    def ended(self) -> None:
        """The log will get nothing more (its process was removed)."""


class ChannelLog(OutputSink, Protocol):
    """One channel of one child as the daemon keeps it: the sink its output goes to, and the
    log file that readers (status, log reads, tails) find through the read model."""

    @property
    def path(self) -> str | None:
        """The log file; None when the channel has none (NONE, or a redirected stderr)."""

    @property
    def error(self) -> str | None:
        """What keeps output from the file right now (a full disk...), None when nothing."""

    def reopen(self) -> None:
        """Open the file again by its path (after an external rename). Never raises."""

    def clear(self) -> None:
        """Empty the log; raises OSError when the file cannot be removed."""

    def follow(self, follower: LogFollower) -> Callable[[], None]:
        """Tell ``follower`` of what is written to the log from now on; the result stops."""

    def set_rotation(self, maxbytes: int, backups: int) -> None:
        """Rotate at ``maxbytes`` keeping ``backups`` files from now on (an update applied in
        place); a channel without a file of its own ignores it."""
