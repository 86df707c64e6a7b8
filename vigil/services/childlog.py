"""Where one channel (stdout or stderr) of one child goes: its log file, syslog, capture, events.

The runtime reads the pipe in large chunks and hands each to ``ChildLog.write``. With no
capture, ANSI stripping, syslog or listener, a chunk costs one ``os.write`` loop and an addition;
the rest is paid only by the features that are turned on.

What a log file holds (guarantees):
* Every byte a chunk carries is written in order, whole, to the current file; rotation happens
  only between chunks (after the write that reached ``maxbytes``, as in Supervisor), so a chunk
  is never split across ``x.log.1`` and ``x.log``, and the retained files read oldest to newest
  are one contiguous tail of the output.
* While the file rotates, every retained name (``x.log``, ``x.log.1`` ...) exists at every
  instant: a reader polling them never finds one missing (``logfiles.RotatingFile.rotate``).
* Bytes are dropped only by design (the oldest backup, ``backups=0`` truncation) or while the
  file cannot be written (disk full, permission, directory gone). Then the rest of the failing
  chunk and later chunks are dropped, never buffered without bound; the failure is reported to
  the main log once (again only if the reason changes), ``error`` says what is wrong, every
  later chunk tries again (reopening if the file could not be opened) and the recovery is
  reported with the number of bytes lost.
"""

from __future__ import annotations

import re
import syslog
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from vigil.config.model import LogLevel, ProcessConfig
from vigil.core.capture import CaptureScanner, Segment, SegmentKind
from vigil.core.events import Channel
from vigil.core.ports import LogFollower, MainLog
from vigil.services.log_followers import LogFollowers
from vigil.services.logfiles import RotatingFile

if TYPE_CHECKING:
    from vigil.services.forwarding import LineForwarder
    from vigil.services.line_stamps import LineStamper
    from vigil.services.memory_log import MemoryFile

_ANSI_TERMINATORS = rb"HfABCDRsuJKhlpm"
# An escape runs from ESC [ to the first terminator; with none before the end of the data the
# group is empty and the escape continues into the next chunk.
_ANSI_ESCAPE = re.compile(rb"\x1b\[[^" + _ANSI_TERMINATORS + rb"]*([" + _ANSI_TERMINATORS + rb"])?")
_ANSI_TERMINATOR = re.compile(rb"[" + _ANSI_TERMINATORS + rb"]")

SYSLOG_MAX_LINE = 8192


class AnsiStripper:
    """Supervisor's ``strip_ansi``, made to work on a stream cut at arbitrary places.

    Supervisor removes ``ESC [`` up to the first of ``HfABCDRsuJKhlpm`` within each read, so an
    escape split across two reads leaks its second half into the log (and an unterminated one
    swallows the rest of that read only). Here the state carries over: what comes out of
    ``feed`` for every piece, then ``finish``, equals Supervisor's stripping of the whole stream
    at once. At most one byte (a trailing ESC) is held back between calls.
    """

    def __init__(self) -> None:
        self._in_escape = False
        self._held_escape = False

    def feed(self, data: bytes) -> bytes:
        if self._held_escape:
            data = b"\x1b" + data
            self._held_escape = False
        if self._in_escape:
            end = _ANSI_TERMINATOR.search(data)
            if end is None:
                return b""
            data = data[end.end() :]
            self._in_escape = False
        if b"\x1b" not in data:
            return data
        kept: list[bytes] = []
        start = 0
        for match in _ANSI_ESCAPE.finditer(data):
            kept.append(data[start : match.start()])
            start = match.end()
            if match.group(1) is None:
                self._in_escape = True  # ran to the end of the data without a terminator
        kept.append(data[start:])
        out = b"".join(kept)
        if not self._in_escape and out.endswith(b"\x1b"):
            self._held_escape = True  # it may start an escape with the next chunk's "["
            out = out[:-1]
        return out

    def finish(self) -> bytes:
        """The stream (or this stretch of it) ended: give back a held ESC, forget the state."""
        held = b"\x1b" if self._held_escape else b""
        self._in_escape = self._held_escape = False
        return held


def syslog_message(name: str, line: bytes) -> str:
    """Supervisor's child syslog format, ``<name> <line>``.

    Undecodable bytes become U+FFFD (Supervisor drops the whole chunk from syslog then) and NUL,
    which syslog cannot carry, is written as ``\\x00``.
    """
    text = line.decode("utf-8", "replace").replace("\x00", "\\x00")
    return f"{name} {text}"


class SyslogLines:
    """Sends a child's output to syslog one line per message.

    Supervisor sends each read's lines, so a line cut by a read boundary becomes two messages;
    here a partial line waits for its end (or ``SYSLOG_MAX_LINE`` bytes, or ``finish``).
    """

    def __init__(self, name: str, send: Callable[[str], None]) -> None:
        self._name = name
        self._send = send
        self._partial = b""

    def feed(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        while len(self._partial) > SYSLOG_MAX_LINE:
            lines.append(self._partial[:SYSLOG_MAX_LINE])
            self._partial = self._partial[SYSLOG_MAX_LINE:]
        for line in lines:
            self._send(syslog_message(self._name, line))

    def finish(self) -> None:
        if self._partial:
            self._send(syslog_message(self._name, self._partial))
            self._partial = b""


def output_debug_message(name: str, channel: Channel, data: bytes) -> str:
    """The main log's DEBG line for a chunk of child output, worded as Supervisor's."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = f"Undecodable: {data!r}"
    return f"{name!r} {channel} output:\n{text}"


@dataclass(frozen=True)
class ChildLogSettings:
    """What one channel's log needs from the config, with AUTO already resolved to a path."""

    name: str  # the process name, as Supervisor shows it in syslog and the main log
    channel: Channel
    path: str | None  # None: no file (NONE/OFF); output still reaches syslog and listeners
    maxbytes: int = 0
    backups: int = 0
    syslog: bool = False
    capture_maxbytes: int = 0
    strip_ansi: bool = False

    @classmethod
    def for_channel(
        cls, process: ProcessConfig, channel: Channel, *, path: str | None, strip_ansi: bool
    ) -> ChildLogSettings:
        """The settings of one channel: the config names them `<channel>_<option>`."""

        def option(name: str) -> Any:
            return getattr(process, f"{channel}_{name}")

        return cls(
            name=process.name,
            channel=channel,
            path=path,
            maxbytes=option("logfile_maxbytes"),
            backups=option("logfile_backups"),
            syslog=option("syslog"),
            capture_maxbytes=option("capture_maxbytes"),
            strip_ansi=strip_ansi,
        )


class ChildLog:
    """An ``OutputSink`` for one channel of one process.

    ``on_data`` sees every piece of output after ANSI stripping, captured text included (as
    Supervisor emits PROCESS_LOG events for it too); ``on_capture`` gets each completed capture
    payload (PROCESS_COMMUNICATION). ``mainlog_debug`` adds Supervisor's DEBG lines showing the
    output in the main log; pass it only when the main log's level lets DEBG through.

    The file is created here, as Supervisor creates it at spawn, but its descriptor is opened
    by the first chunk and then kept (``RotatingFile.create``): a program that never writes
    holds none. With ``strict_open`` a file that cannot be created raises ``OSError`` from the
    constructor, for a spawn that should fail as Supervisor's does ("unknown error making
    dispatchers"); otherwise the failure is recorded like any write error and the open retried
    with each chunk.
    """

    def __init__(
        self,
        settings: ChildLogSettings,
        mainlog: MainLog,
        *,
        mainlog_debug: bool = False,
        on_data: Callable[[bytes], None] | None = None,
        on_capture: Callable[[bytes], None] | None = None,
        syslog_send: Callable[[str], None] = syslog.syslog,
        strict_open: bool = False,
        memory: MemoryFile | None = None,
        forward: LineForwarder | None = None,
        stamper: LineStamper | None = None,
    ) -> None:
        self.settings = settings
        self.error: str | None = None
        self._mainlog = mainlog
        self._mainlog_debug = mainlog_debug
        self._on_data = on_data
        self._on_capture = on_capture
        self._closed = False
        self._lost = 0  # since writing last failed, for the recovery message
        self.dropped_total = 0  # every byte that could not be written, for /metrics
        self._followers = LogFollowers()
        self._file: RotatingFile | MemoryFile | None = memory
        self._forward = forward
        self._stamper = stamper
        if memory is None and settings.path is not None:
            self._file = RotatingFile(settings.path, settings.maxbytes, settings.backups)
            if strict_open:
                self._file.create()
            else:
                self._attempt(self._file.create)
        self._syslog = SyslogLines(settings.name, syslog_send) if settings.syslog else None
        self._stripper = AnsiStripper() if settings.strip_ansi else None
        self._scanner: CaptureScanner | None = None
        if settings.capture_maxbytes > 0:
            self._scanner = CaptureScanner(settings.capture_maxbytes, self._stripper)
        self._plain = (
            self._scanner is None
            and self._stripper is None
            and not (self._syslog or on_data or mainlog_debug)
        )

    @property
    def path(self) -> str | None:
        return self.settings.path if self._file is None else self._file.path

    @property
    def written_total(self) -> int:
        """Bytes written to the file since the daemon made this log (rotations included)."""
        return 0 if self._file is None else self._file.written_total

    def write(self, data: bytes) -> None:
        if not data or self._closed:
            return
        if self._plain:
            self._write_file(data)
        elif self._scanner is not None:
            self._dispatch(self._scanner.feed(data))
        else:
            if self._stripper is not None:
                data = self._stripper.feed(data)
            self._log_output(data)

    def reopen(self) -> None:
        """Reopen the file by its path (after an external ``mv``; SIGUSR2). Never raises.

        The file is created now and opened by the next chunk, as at the start: a quiet
        program's log holds no descriptor after a SIGUSR2 either.
        """
        if self._file is not None and not self._closed:
            self._attempt(self._file.create)

    def follow(self, follower: LogFollower) -> Callable[[], None]:
        return self._followers.add(follower)

    def clear(self) -> None:
        """Remove the file and start an empty one; raises ``OSError`` if it cannot be removed.

        The capture buffer is emptied too, as Supervisor's clearProcessLogs does.
        """
        if self._scanner is not None:
            self._scanner.clear_buffer()
        if self._file is None or self._closed:
            return
        try:
            self._file.remove()
        except OSError:
            # when the new file could not be made, say so now (later chunks retry); when the
            # old one could not be removed it is still there, and no error for the output
            self._attempt(self._file.create)
            raise
        self._followers.truncated()

    def set_rotation(self, maxbytes: int, backups: int) -> None:
        """Rotate at `maxbytes` keeping `backups` files from now on (an update that changes
        only these applies them in place, without restarting the program). A file already
        past a lower `maxbytes` rotates at the next write; backups beyond a lower count are
        left where they are (Supervisor never deletes them either) and are no longer
        shifted."""
        self.settings = replace(self.settings, maxbytes=maxbytes, backups=backups)
        if isinstance(self._file, RotatingFile):
            self._file.maxbytes = maxbytes
            self._file.backups = backups

    def ended_stream(self) -> None:
        """The child's end of the pipe closed (its run ended): a line held for its newline
        by a line-by-line consumer (forwarded output, syslog) goes out now, so a last line
        without one does not wait for the next run and join its first line. The file gets
        the bytes as they came: Supervisor's log of a run ending mid-line ends mid-line."""
        if self._closed:
            return
        if self._forward is not None:
            self._forward.finish()
        if self._syslog is not None:
            self._syslog.finish()

    def close(self) -> None:
        """End of output: release held bytes (token prefix, ESC, partial syslog line), close."""
        if self._closed:
            return
        if self._scanner is not None:
            self._dispatch(self._scanner.finish())
        elif self._stripper is not None:
            self._log_output(self._stripper.finish())
        if self._syslog is not None:
            self._syslog.finish()
        if self._forward is not None:
            self._forward.finish()
        self._closed = True
        if self._file is not None:
            self._file.close()
        self._followers.ended()

    def _dispatch(self, segments: list[Segment]) -> None:
        for segment in segments:
            if segment.kind is SegmentKind.LOG:
                self._log_output(segment.data)
            elif segment.kind is SegmentKind.CAPTURED:
                self._announce(segment.data)
            else:
                self._capture_complete(segment.data)

    def _log_output(self, data: bytes) -> None:
        if not data:
            return
        self._write_file(data)
        if self._syslog is not None:
            self._syslog.feed(data)
        self._announce(data)

    def _announce(self, data: bytes) -> None:
        if self._mainlog_debug:
            message = output_debug_message(self.settings.name, self.settings.channel, data)
            self._mainlog.log(LogLevel.DEBG, message)
        if self._on_data is not None:
            self._on_data(data)

    def _capture_complete(self, payload: bytes) -> None:
        if self._on_capture is not None:
            self._on_capture(payload)
        name, channel = self.settings.name, self.settings.channel
        self._mainlog.log(LogLevel.DEBG, f"{name!r} {channel} emitted a comm event")

    def _write_file(self, data: bytes) -> None:
        if self._forward is not None:
            self._forward.feed(data)
        out: bytes | memoryview = data
        if self._stamper is not None:
            out = self._stamper.feed(data)
        if self._followers:
            # what the file gets (or would: NONE), as it gets it
            self._followers.publish(out if isinstance(out, bytes) else bytes(out))
        file = self._file
        if file is None:
            return
        if not file.is_open and not self._attempt(file.open):
            self._lost += len(out)
            self.dropped_total += len(out)
            return
        before = file.written_total
        try:
            file.write(out)
        except OSError as exc:
            self._failed(exc, len(out) - (file.written_total - before))
            return
        if self.error is not None:
            self._recovered()

    def _attempt(self, step: Callable[[], None]) -> bool:
        """Create or open the file, a failure recorded as a write's would be (nothing lost yet)."""
        try:
            step()
        except OSError as exc:
            self._failed(exc, 0)
            return False
        return True

    def _failed(self, exc: OSError, lost: int) -> None:
        self._lost += lost
        self.dropped_total += lost
        reason = exc.strerror or str(exc)
        error = f"{self.settings.path}: {reason}"
        if error != self.error:
            self.error = error
            name, channel = self.settings.name, self.settings.channel
            self._mainlog.log(
                LogLevel.ERRO,
                f"cannot write {channel} log of {name!r} to {error}; "
                "output is dropped until writing works again",
            )

    def _recovered(self) -> None:
        if self.error is None:
            return
        name, channel = self.settings.name, self.settings.channel
        self._mainlog.log(
            LogLevel.INFO,
            f"writing {channel} log of {name!r} to {self.settings.path} again "
            f"({self._lost} bytes lost)",
        )
        self.error = None
        self._lost = 0
