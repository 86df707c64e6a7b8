"""The daemon's own activity log, in Supervisor's format so tools that grep it keep working.

A record is ``YYYY-MM-DD HH:MM:SS,mmm LEVL message`` in local time, written with one
``os.write`` to a file rotated like Supervisor's (see ``logfiles.RotatingFile``), or sent to
syslog when the configured logfile is ``syslog``, and echoed to stdout in the foreground.
Logging never raises into the daemon: a failing file is reported once on stderr and retried
with each later record.
"""

from __future__ import annotations

import sys
import syslog
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from vigil.clock import Clock, SystemClock
from vigil.config.model import LogFormat, LogLevel, SupervisordConfig
from vigil.core.ports import LogFollower, MainLog
from vigil.services.log_followers import LogFollowers
from vigil.services.logfiles import RotatingFile

SYSLOG_TARGET = "syslog"

# Supervisor sends every record at the default priority; errors are worth their own priority.
_SYSLOG_PRIORITY: dict[int, int] = {
    LogLevel.CRIT: syslog.LOG_CRIT,
    LogLevel.ERRO: syslog.LOG_ERR,
    LogLevel.WARN: syslog.LOG_WARNING,
}


def format_timestamp(now: float) -> str:
    """``2024-05-01 12:00:00,123``: local time with milliseconds truncated, as Supervisor."""
    millis = int((now - int(now)) * 1000)
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))},{millis:03d}"


def level_name(level: int) -> str:
    try:
        return LogLevel(level).name
    except ValueError:
        return str(level)


def format_record(now: float, level: int, message: str) -> str:
    return f"{format_timestamp(now)} {level_name(level)} {message}\n"


def encode_record(record: str) -> bytes:
    """UTF-8, giving back the original bytes of undecodable names (surrogateescape) and
    spelling out any other lone surrogate instead of failing."""
    try:
        return record.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return record.encode("utf-8", "backslashreplace")


def printable(text: str) -> str:
    """``text`` as something any text stream or syslog accepts (no NUL, no lone surrogate)."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def syslog_records(now: float, level: int, message: str) -> list[str]:
    """What goes to syslog for one record: one message per line, each with time and level."""
    prefix = f"{format_timestamp(now)} {level_name(level)} "
    return [printable(prefix + line) for line in message.rstrip("\n").split("\n")]


def syslog_priority(level: int) -> int:
    return _SYSLOG_PRIORITY.get(level, syslog.LOG_INFO)


class Echo(Protocol):
    """Where records are echoed in the foreground: sys.stdout, or the console writer that
    forwarded output shares (so that the two never cut into each other)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class PendingLog:
    """Holds messages logged before the main log can be opened (before setuid, while parsing).

    Supervisor replays parse warnings into the main log once it exists; ``replay`` does that,
    each message then passing the real logger's level filter.
    """

    def __init__(self) -> None:
        self.entries: list[tuple[LogLevel, str]] = []

    def log(self, level: LogLevel, message: str) -> None:
        self.entries.append((level, message))

    def replay(self, target: MainLog) -> None:
        entries, self.entries = self.entries, []
        for level, message in entries:
            target.log(level, message)


class MainLogger:
    """Supervisor's main log: level filter, file with rotation or syslog, optional echo.

    ``path`` None means no file at all (records only echo); ``"syslog"`` means syslog.
    Constructing it opens the file and raises ``OSError`` when it cannot, so the daemon can
    refuse to start with a clear message; after that, nothing here raises but ``clear``.
    """

    def __init__(
        self,
        path: str | None,
        *,
        level: LogLevel = LogLevel.INFO,
        maxbytes: int = 0,
        backups: int = 0,
        echo: Echo | None = None,
        clock: Clock | None = None,
        syslog_send: Callable[[int, str], None] = syslog.syslog,
        errors: TextIO | None = None,
        json_lines: bool = False,
    ) -> None:
        self.level = level
        self._format: Callable[[float, int, str], str] = format_record
        if json_lines:
            from vigil.services.json_log import json_record

            self._format = lambda now, level, message: json_record(now, level_name(level), message)
        self.error: str | None = None
        self._path = path
        self._echo = echo
        self._clock = clock or SystemClock()
        self._syslog_send = syslog_send
        self._errors = errors
        self._file: RotatingFile | None = None
        self._followers = LogFollowers()
        if path is not None and path != SYSLOG_TARGET:
            self._file = RotatingFile(path, maxbytes, backups)
            self._file.open()

    @classmethod
    def from_config(
        cls, config: SupervisordConfig, *, stdout: Echo | None = None, clock: Clock | None = None
    ) -> MainLogger:
        """The main log as supervisord configures it: echo only in the foreground, not silent."""
        echo = (stdout or sys.stdout) if config.nodaemon and not config.silent else None
        return cls(
            config.logfile,
            level=config.loglevel,
            maxbytes=config.logfile_maxbytes,
            backups=config.logfile_backups,
            echo=echo,
            clock=clock,
            json_lines=config.logformat is LogFormat.JSON,
        )

    @property
    def path(self) -> str | None:
        """The configured logfile (``"syslog"`` included), as readLog and clearLog see it."""
        return self._path

    def enabled_for(self, level: int) -> bool:
        """Whether a record at ``level`` would be written: lets callers skip costly messages."""
        return level >= self.level

    def log(self, level: LogLevel, message: str) -> None:
        if level < self.level:
            return
        now = self._clock.time()
        if self._echo is not None or self._file is not None:
            record = self._format(now, level, message)
            if self._echo is not None:
                self._write_echo(record)
            if self._file is not None:
                self._write_file(encode_record(record))
        if self._path == SYSLOG_TARGET:
            for line in syslog_records(now, level, message):
                self._syslog_send(syslog_priority(level), line)

    def reopen(self) -> None:
        """Reopen the file by its path (SIGUSR2, after an external ``mv``), as Supervisor does."""
        self.log(LogLevel.INFO, "supervisord logreopen")
        if self._file is not None:
            self._open()

    def follow(self, follower: LogFollower) -> Callable[[], None]:
        """Tell ``follower`` of every record written to the file from now on."""
        return self._followers.add(follower)

    def clear(self) -> None:
        """Remove the file and start an empty one (clearLog); raises ``OSError`` on failure.

        Supervisor logs "reopening log file" after removing the file and before reopening it,
        so only the echo shows it and the new file starts empty; so here.
        """
        if self._file is None:
            return
        if self._echo is not None and self.enabled_for(LogLevel.INFO):
            self._write_echo(self._format(self._clock.time(), LogLevel.INFO, "reopening log file"))
        self._file.remove()
        self._followers.truncated()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def _open(self) -> bool:
        assert self._file is not None
        try:
            self._file.open()
        except OSError as exc:
            self._failed(exc)
            return False
        return True

    def _write_file(self, data: bytes) -> None:
        assert self._file is not None
        if self._followers:
            self._followers.publish(data)
        if not self._file.is_open and not self._open():
            return
        try:
            self._file.write(data)
        except OSError as exc:
            self._failed(exc)
        else:
            self.error = None

    def _write_echo(self, record: str) -> None:
        assert self._echo is not None
        try:
            try:
                self._echo.write(record)
            except UnicodeEncodeError:
                self._echo.write(printable(record))
            self._echo.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stdout (EPIPE at exit) must not stop the daemon

    def _failed(self, exc: OSError) -> None:
        """Say it once on stderr: the main log cannot report its own failure."""
        error = f"{self._path}: {exc.strerror or exc}"
        if error == self.error:
            return
        self.error = error
        errors = self._errors or sys.stderr
        try:
            errors.write(f"Error writing the main log {error}; will retry with each message\n")
            errors.flush()
        except (OSError, ValueError):
            pass
