"""Live followers of a log: what a child (or the daemon) writes reaches them as it is written.

The pipe reader hands each chunk to the log file and then to the log's followers, so a
``tail -f``, a log stream or the dashboard wakes when there is output instead of polling a
file. A follower never slows the writer: ``TailWaker`` only wakes its reader (which reads the
file, the file being the buffer), and ``ChunkFollower`` keeps at most ``limit`` bytes for a
reader that falls behind, dropping what does not fit and saying how much was lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from vigil.core.ports import LogFollower
from vigil.services.wakeup import Wakeup

FOLLOWER_BUFFER = 1024 * 1024  # bytes a ChunkFollower holds for a reader that falls behind


class LogFollowers:
    """The followers of one log. Empty (and free) unless someone follows."""

    __slots__ = ("_followers",)

    def __init__(self) -> None:
        self._followers: list[LogFollower] = []

    def __bool__(self) -> bool:
        return bool(self._followers)

    def add(self, follower: LogFollower) -> Callable[[], None]:
        """Follow from now on; the result stops following."""
        self._followers.append(follower)

        def remove() -> None:
            if follower in self._followers:
                self._followers.remove(follower)

        return remove

    def publish(self, data: bytes) -> None:
        for follower in tuple(self._followers):
            follower.written(data)

    def truncated(self) -> None:
        for follower in tuple(self._followers):
            follower.truncated()

    def ended(self) -> None:
        followers, self._followers = self._followers, []
        for follower in followers:
            follower.ended()


class TailWaker(Wakeup):
    """Wakes a reader of the log file when something was written or the log was cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = False

    def written(self, data: bytes) -> None:
        self.pending = True
        self.wake()

    def truncated(self) -> None:
        self.pending = True
        self.wake()

    def ended(self) -> None:
        self.close()


@dataclass(frozen=True)
class Dropped:
    """``count`` bytes the reader was too slow to receive."""

    count: int


class Truncated:
    """The log was cleared."""


class Ended:
    """The log will get nothing more."""


Item = bytes | Dropped | Truncated | Ended


class ChunkFollower:
    """Keeps what is written, up to ``limit`` bytes, for a reader that takes it in turns;
    ``wakeup`` is that reader's (one reader may follow several logs)."""

    def __init__(self, wakeup: Wakeup, limit: int = FOLLOWER_BUFFER) -> None:
        self._wakeup = wakeup
        self._limit = limit
        self._items: deque[Item] = deque()
        self._size = 0
        self._dropped = 0

    def written(self, data: bytes) -> None:
        if self._size + len(data) > self._limit:
            self._dropped += len(data)
        else:
            self._flush_dropped()
            self._items.append(data)
            self._size += len(data)
        self._wakeup.wake()

    def truncated(self) -> None:
        self._flush_dropped()
        self._items.append(Truncated())
        self._wakeup.wake()

    def ended(self) -> None:
        self._flush_dropped()
        self._items.append(Ended())
        self._wakeup.wake()

    def pending(self) -> bool:
        return bool(self._items or self._dropped)

    def take(self) -> list[Item]:
        """Everything kept so far (and what was dropped since), in order."""
        self._flush_dropped()
        items = list(self._items)
        self._items.clear()
        self._size = 0
        return items

    def _flush_dropped(self) -> None:
        if self._dropped:
            self._items.append(Dropped(self._dropped))
            self._dropped = 0
