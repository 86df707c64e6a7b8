"""Where each process's output goes: its two ChildLogs, wired to the event bus.

The runtime sees only OutputSinks; this is where AUTO paths are chosen and where output
becomes PROCESS_LOG and PROCESS_COMMUNICATION events. An event listener's stdout is different:
it is the protocol channel to its pool (still written to its log file, never an event).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vigil.config.model import AUTO, LogLevel, ProcessConfig, SupervisordConfig
from vigil.core.bus import EventBus
from vigil.core.events import Channel, Event, ProcessCommunication, ProcessLogged
from vigil.core.ports import ChannelLog
from vigil.services.childlog import ChildLog, ChildLogSettings
from vigil.services.listeners import ListenerPools, ListenerStdout
from vigil.services.logfiles import resolve_logfile
from vigil.services.mainlog import MainLogger

PidLookup = Callable[[str, str], int]
Sink = ChildLog | ListenerStdout

if TYPE_CHECKING:
    from vigil.services.forwarding import Consoles


class ProcessOutputs:
    def __init__(
        self,
        daemon: SupervisordConfig,
        mainlog: MainLogger,
        bus: EventBus,
        consoles: Consoles | None = None,
    ) -> None:
        self._daemon = daemon
        self._mainlog = mainlog
        self._bus = bus
        # the daemon's stdout and stderr, for forward_output (made at the first use when the
        # daemon did not make them: outside container mode, only a config that asks pays)
        self._consoles = consoles
        self.pid_of: PidLookup = lambda group, name: 0
        # Set by the daemon once the pools exist: where listener stdout goes, and whether a
        # group (by name, in the configuration being applied) is an event listener pool.
        self.listeners: ListenerPools | None = None
        self.is_listener: Callable[[str], bool] = lambda group: False
        # the logs of each process as last made, for live followers to find, and the files
        # behind them (a listener's stdout writes to one too), for their byte counts
        self._made: dict[tuple[str, str], tuple[Sink, Sink]] = {}
        self._files: dict[tuple[str, str], tuple[ChildLog, ChildLog]] = {}

    def __call__(self, process: ProcessConfig) -> tuple[Sink, Sink]:
        pools = self.listeners if self.is_listener(process.group) else None
        if pools is None:
            stdout_file = self._log(process, "stdout")
        else:
            stdout_file = self._listener_file(process)
        stderr = self._log(process, "stderr")
        stdout: Sink = (
            stdout_file if pools is None else self._listener_stdout(process, stdout_file, pools)
        )
        logs: tuple[Sink, Sink] = (stdout, stderr)
        self._made[(process.group, process.name)] = logs
        self._files[(process.group, process.name)] = (stdout_file, stderr)
        return logs

    def byte_counts(self, group: str, name: str, channel: Channel) -> tuple[int, int]:
        """(bytes written, bytes dropped) by one channel's log since it was made."""
        files = self._files.get((group, name))
        if files is None:
            return 0, 0
        log = files[0] if channel == "stdout" else files[1]
        return log.written_total, log.dropped_total

    def log_of(self, group: str, name: str, channel: Channel) -> ChannelLog | None:
        """The log of one channel of a process, as made for it (None: never made)."""
        logs = self._made.get((group, name))
        if logs is None:
            return None
        return logs[0] if channel == "stdout" else logs[1]

    def _listener_file(self, process: ProcessConfig) -> ChildLog:
        # the log file keeps the protocol bytes; no capture, syslog or events on this channel
        plain = dataclasses.replace(
            process, stdout_capture_maxbytes=0, stdout_syslog=False, stdout_events_enabled=False
        )
        return self._log(plain, "stdout", mainlog_debug=False, forwardable=False)

    def _listener_stdout(
        self, process: ProcessConfig, file: ChildLog, pools: ListenerPools
    ) -> ListenerStdout:
        return ListenerStdout(
            process,
            file,
            pools,
            self._mainlog,
            mainlog_debug=self._mainlog.enabled_for(LogLevel.DEBG),
        )

    def _log(
        self,
        process: ProcessConfig,
        channel: Channel,
        *,
        mainlog_debug: bool = True,
        forwardable: bool = True,  # not an event listener's protocol channel
    ) -> ChildLog:
        stdout = channel == "stdout"
        configured = process.stdout_logfile if stdout else process.stderr_logfile
        redirected = not stdout and process.redirect_stderr
        if redirected:
            configured = None
        extras: dict[str, Any] = {}
        if forwardable and not redirected and self._forwarded(process, configured):
            extras.update(self._forwarding(process, channel, configured))
        path = None
        if "memory" not in extras:
            path = resolve_logfile(
                configured,
                childlogdir=self._daemon.childlogdir,
                procname=process.name,
                channel=channel,
                identifier=self._daemon.identifier,
            )
        if getattr(process, f"{channel}_logfile_timestamps") and (path or "memory" in extras):
            from vigil.services.line_stamps import LineStamper

            extras["stamper"] = LineStamper()
        settings = ChildLogSettings.for_channel(
            process, channel, path=path, strip_ansi=self._daemon.strip_ansi
        )
        events_enabled = process.stdout_events_enabled if stdout else process.stderr_events_enabled
        return ChildLog(
            settings,
            self._mainlog,
            mainlog_debug=mainlog_debug and self._mainlog.enabled_for(LogLevel.DEBG),
            on_data=self._announcer(process, channel, ProcessLogged) if events_enabled else None,
            on_capture=self._announcer(process, channel, ProcessCommunication),
            **extras,
        )

    def _forwarded(self, process: ProcessConfig, configured: object) -> bool:
        """forward_output as written; by default, in container mode, a channel without a
        log file of its own (AUTO or NONE) is forwarded."""
        if process.forward_output is not None:
            return process.forward_output
        container = self._consoles is not None and self._consoles.container
        return container and (configured is AUTO or configured is None)

    def _forwarding(
        self, process: ProcessConfig, channel: Channel, configured: object
    ) -> dict[str, Any]:
        """The forwarder of a channel, and the memory log that replaces an AUTO or NONE
        file (so that tail still reads the channel's last output)."""
        from vigil.services.forwarding import Consoles, LineForwarder
        from vigil.services.memory_log import MemoryFile

        if self._consoles is None:
            self._consoles = Consoles(container=False)
        console = self._consoles.stdout if channel == "stdout" else self._consoles.stderr
        extras: dict[str, Any] = {
            "forward": LineForwarder(
                process.name, console, timestamps=process.forward_output_timestamps
            )
        }
        if configured is AUTO or configured is None:
            extras["memory"] = MemoryFile(f"{process.name}-{channel}")
        return extras

    def _announcer(
        self,
        process: ProcessConfig,
        channel: Channel,
        make: Callable[[str, str, int, Channel, bytes], Event],
    ) -> Callable[[bytes], None]:
        def announce(data: bytes) -> None:
            pid = self.pid_of(process.group, process.name)
            self._bus.publish(make(process.name, process.group, pid, channel, data))

        return announce
