"""One reader waiting for news from whoever feeds it (a log, the event feed), or a timeout.

The feeders call ``wake`` synchronously as they publish; the reader's ``wait`` returns at the
first of a wake, a timeout (for its keep-alive) or ``close`` (its client left, the server is
stopping). Waking a reader that is not waiting costs nothing and is not remembered: the
reader looks at its queue before it waits, and nothing is published in between.
"""

from __future__ import annotations

import asyncio


class Wakeup:
    """A reader waiting until one of its followers has something, or a timeout passes."""

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False

    async def wait(self, timeout: float) -> None:
        if self.closed:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self._waiter, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiter = None

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        self.closed = True
        self.wake()
