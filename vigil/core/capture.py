"""Capture mode: finding `<!--XSUPERVISOR:BEGIN-->`...`<!--XSUPERVISOR:END-->` in a byte stream.

A child talks to the daemon by wrapping a message in these tokens on stdout or stderr; the text
between them leaves the normal log and becomes a PROCESS_COMMUNICATION event when the end token
arrives. Pipes deliver arbitrary pieces, so a token may be split across reads: like Supervisor,
the scanner holds back only a tail of the stream that could still grow into the token it is
looking for, and releases everything else at once. It does no I/O, so it is tested by feeding
it every possible split of a stream.

What it guarantees, for any way the stream is cut into pieces: the LOG bytes, the CAPTURED bytes
and the PAYLOADs are the same as for the whole stream fed at once (held bytes come out on
``finish``). Unlike Supervisor it never holds back bytes that cannot be part of a token (Supervisor
waits for more than a token's length of output before logging anything when capture is on), and
the payload is exactly the last ``maxbytes`` captured bytes (Supervisor's BoundIO can keep fewer).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

BEGIN_TOKEN = b"<!--XSUPERVISOR:BEGIN-->"
END_TOKEN = b"<!--XSUPERVISOR:END-->"


class SegmentKind(Enum):
    LOG = "log"  # ordinary output: goes to the log file and syslog
    CAPTURED = "captured"  # a piece of output between the tokens (already kept in the buffer)
    PAYLOAD = "payload"  # the end token arrived: the bounded captured text, for the event


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    data: bytes


def held_token_prefix(data: bytes, token: bytes) -> int:
    """How many bytes at the end of ``data`` are a proper prefix of ``token``.

    Those bytes must wait for the next read: together with it they may complete the token.
    The first byte of the token is searched for before any comparison, so a chunk without it
    costs one ``find``.
    """
    longest = min(len(token) - 1, len(data))
    if longest <= 0 or data.find(token[:1], len(data) - longest) == -1:
        return 0
    for size in range(longest, 0, -1):
        if data.endswith(token[:size]):
            return size
    return 0


class BoundedTail:
    """The last ``maxbytes`` bytes appended: the capture buffer."""

    def __init__(self, maxbytes: int) -> None:
        if maxbytes <= 0:
            raise ValueError(f"capture buffer size must be positive, got {maxbytes}")
        self.maxbytes = maxbytes
        self._buffer = bytearray()

    def __len__(self) -> int:
        return len(self._buffer)

    def append(self, data: bytes) -> None:
        if len(data) >= self.maxbytes:
            self._buffer[:] = data[-self.maxbytes :]
            return
        self._buffer += data
        excess = len(self._buffer) - self.maxbytes
        if excess > 0:
            del self._buffer[:excess]

    def take(self) -> bytes:
        """Return the contents and empty the buffer."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def clear(self) -> None:
        self._buffer.clear()


class StreamFilter(Protocol):
    """A stateful rewrite of a byte stream (the ANSI stripper) that may hold a few bytes back."""

    def feed(self, data: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class CaptureScanner:
    """Splits one channel's output into log text, captured text and completed payloads.

    ``transform`` (the ANSI stripper, when enabled) is applied to each LOG and CAPTURED piece
    in stream order before it is returned or buffered, as Supervisor strips before buffering.
    A token ends whatever the filter was holding, so held bytes never change sides.
    """

    def __init__(self, maxbytes: int, transform: StreamFilter | None = None) -> None:
        self._captured = BoundedTail(maxbytes)
        self._transform = transform
        self._held = b""
        self.capturing = False

    def feed(self, data: bytes) -> list[Segment]:
        """Scan one read; return what it completes, in stream order."""
        out: list[Segment] = []
        pending = self._held + data if self._held else data
        self._held = b""
        while pending:
            token = END_TOKEN if self.capturing else BEGIN_TOKEN
            index = pending.find(token)
            if index == -1:
                keep = held_token_prefix(pending, token)
                if keep:
                    self._held = pending[-keep:]
                    pending = pending[:-keep]
                self._emit(out, pending)
                break
            self._emit(out, pending[:index])
            pending = pending[index + len(token) :]
            self._toggle(out)
        return out

    def finish(self) -> list[Segment]:
        """The stream ended: release the bytes held as a possible token start.

        A capture still open at the end never completes, so no payload is produced (as in
        Supervisor); its bytes come out as CAPTURED.
        """
        out: list[Segment] = []
        held, self._held = self._held, b""
        self._emit(out, held)
        self._flush_transform(out)
        return out

    def clear_buffer(self) -> None:
        """Forget captured text so far (clearing a process's logs clears it in Supervisor)."""
        self._captured.clear()

    def _emit(self, out: list[Segment], data: bytes) -> None:
        if data and self._transform is not None:
            data = self._transform.feed(data)
        self._append(out, data)

    def _flush_transform(self, out: list[Segment]) -> None:
        if self._transform is not None:
            self._append(out, self._transform.finish())

    def _append(self, out: list[Segment], data: bytes) -> None:
        if not data:
            return
        if self.capturing:
            self._captured.append(data)
            out.append(Segment(SegmentKind.CAPTURED, data))
        else:
            out.append(Segment(SegmentKind.LOG, data))

    def _toggle(self, out: list[Segment]) -> None:
        self._flush_transform(out)
        self.capturing = not self.capturing
        if not self.capturing:
            # in capture -> out of capture: END seen, the buffer becomes an event payload
            out.append(Segment(SegmentKind.PAYLOAD, self._captured.take()))
