"""One life of the daemon: what ends it (a shutdown or a restart) and the exit status it
leaves.

Whoever decides first wins (a signal, an RPC call, an essential program's end); later
decisions are ignored, as Supervisor ignores a second SIGTERM while it shuts down. The
outcome carries the exit status, so the entry point exits with what ended the daemon: 0 for
a requested shutdown, an essential program's own status when its end stopped everything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from vigil.core.states import SupervisorState


@dataclass(frozen=True)
class Outcome:
    """How a life ended: `mood` is SHUTDOWN or RESTARTING; `status` is the exit status of a
    shutdown; `reason` says why, for the main log."""

    mood: SupervisorState
    status: int = 0
    reason: str | None = None


class Lifecycle:
    """The decision that ends one life, awaited by the daemon's run."""

    def __init__(self) -> None:
        self._outcome: Outcome | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def decided(self) -> bool:
        return self._outcome is not None

    def decide(self, outcome: Outcome) -> bool:
        """End this life so; False (and nothing changes) when it was already decided."""
        if self._outcome is not None:
            return False
        self._outcome = outcome
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        return True

    def shutdown(self, status: int = 0, reason: str | None = None) -> bool:
        return self.decide(Outcome(SupervisorState.SHUTDOWN, status, reason))

    def restart(self) -> bool:
        return self.decide(Outcome(SupervisorState.RESTARTING))

    async def outcome(self) -> Outcome:
        """Wait for the decision (at once when it was already taken)."""
        if self._outcome is None:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        assert self._outcome is not None
        return self._outcome
