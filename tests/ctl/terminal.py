"""A program run on a pseudo-terminal, typed at and read from like a person would."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence

DEADLINE = 30.0


def _own_terminal() -> None:
    """In the child: make the pty our controlling terminal (Ctrl-C, /dev/tty for getpass),
    and let Ctrl-C interrupt even if our own runner ignores SIGINT."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """``command`` attached to a new pseudo-terminal of 200 columns."""

    def __init__(self, command: Sequence[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.proc = subprocess.Popen(
            list(command),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=_own_terminal,
        )
        os.close(slave)
        self.seen = ""  # everything read so far
        self._unread = 0  # where `expect` looks from

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, text: str) -> str:
        """Read until ``text`` appears after what earlier calls matched; the output up to and
        including it."""
        deadline = time.monotonic() + DEADLINE
        while True:
            found = self.seen.find(text, self._unread)
            if found >= 0:
                end = found + len(text)
                chunk, self._unread = self.seen[self._unread : end], end
                return chunk
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(remaining):
                raise AssertionError(f"{text!r} never came; the terminal showed:\n{self.seen!r}")

    def expect_all(self, *texts: str) -> None:
        """Read until every one of ``texts`` has appeared after what earlier calls matched,
        in any order (lines of concurrent streams)."""
        deadline = time.monotonic() + DEADLINE
        while True:
            found = [self.seen.find(text, self._unread) for text in texts]
            if all(at >= 0 for at in found):
                self._unread = max(at + len(t) for at, t in zip(found, texts, strict=True))
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(remaining):
                raise AssertionError(
                    f"{texts!r} never all came; the terminal showed:\n{self.seen!r}"
                )

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the program has gone and closed the terminal
            return False
        self.seen += data.decode("utf-8", "replace")
        return bool(data)

    def interrupt_at_prompt(self, tries: int = 20) -> int:
        """Press Ctrl-C until the program ends; its exit status.

        CPython's readline checks for signals only when its select() is interrupted, so a
        SIGINT that lands between printing the prompt and entering select() stays pending
        until the next one (Supervisor's supervisorctl has the same race). A program that
        ignores Ctrl-C still fails here, after `tries` presses.
        """
        for _ in range(tries):
            os.write(self.master, b"\x03")
            deadline = time.monotonic() + 1.0
            while self.proc.poll() is None and time.monotonic() < deadline:
                self._read(0.05)
            if self.proc.poll() is not None:
                return self.wait()
        raise AssertionError(f"Ctrl-C never ended it; the terminal showed:\n{self.seen!r}")

    def wait(self) -> int:
        """The exit status, once the program ends (its remaining output is read meanwhile)."""
        deadline = time.monotonic() + DEADLINE
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.05)
        try:
            return self.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running; the terminal showed:\n{self.seen!r}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
