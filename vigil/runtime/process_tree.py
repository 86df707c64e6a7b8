"""Every process a program started, for ``killmode = tree``.

A stop that signals only the main process, or its process group, misses descendants that called
setsid() or were orphaned (Supervisor #1101). The daemon is a subreaper, so every descendant of
a program stays below the daemon: either below the program's main process, or re-parented to
the daemon itself when its parent died. Those re-parented ones are told apart by the
environment they were started with, which carries SUPERVISOR_PROCESS_NAME and
SUPERVISOR_GROUP_NAME (inherited by every descendant that does not clear its environment).
The tree is found from /proc when a signal is to be sent or the main process has exited, never
in between, and each member is held by a pidfd before it is signalled.
"""

from __future__ import annotations

import os

from vigil.runtime.proctable import HeldProcess, ProcessTable, environ_has, wait_all_gone


class ProcessTree:
    """The processes of one program beside its main process, as found at each look."""

    def __init__(self, name: str, group: str) -> None:
        self._marker = (("SUPERVISOR_PROCESS_NAME", name), ("SUPERVISOR_GROUP_NAME", group))
        # what was already sent to whom, so a process gets each signal once
        self._sent: dict[tuple[int, int], set[int]] = {}

    def find(self, main_pid: int) -> list[HeldProcess]:
        """The live members other than `main_pid`, each held by a pidfd."""
        table = ProcessTable()
        orphans = [
            pid
            for pid in table.children.get(os.getpid(), ())
            if pid != main_pid and environ_has(pid, self._marker)
        ]
        return table.hold([main_pid, *orphans], skip=main_pid)

    def signal(self, main_pid: int, number: int) -> None:
        """Send `number` to every member that has not had it yet."""
        members = self.find(main_pid)
        try:
            self._send(members, number)
        finally:
            _close(members)

    async def wait_gone(self, main_pid: int, number: int) -> None:
        """Send `number` to members as they appear, until none is left."""
        while members := self.find(main_pid):
            try:
                self._send(members, number)
                await wait_all_gone(members, None)
            finally:
                _close(members)

    def forget(self) -> None:
        """The tree is gone: the next life of the program starts with a clean record."""
        self._sent.clear()

    def _send(self, members: list[HeldProcess], number: int) -> None:
        for member in members:
            sent = self._sent.setdefault((member.pid, member.start_time), set())
            if number not in sent:
                sent.add(number)
                member.send(number)


def _close(members: list[HeldProcess]) -> None:
    for member in members:
        member.close()
