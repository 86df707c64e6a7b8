"""Where each process's output goes: its two ChildLogs, wired to the event bus.

The runtime sees only OutputSinks; this is where AUTO paths are chosen and where output
becomes PROCESS_LOG and PROCESS_COMMUNICATION events. An event listener's stdout is different:
it is the protocol channel to its pool (still written to its log file, never an event).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from vigil.config.model import LogLevel, ProcessConfig, SupervisordConfig
from vigil.core.bus import EventBus
from vigil.core.events import Channel, Event, ProcessCommunication, ProcessLogged
from vigil.core.ports import ChannelLog
from vigil.services.childlog import ChildLog, ChildLogSettings
from vigil.services.listeners import ListenerPools, ListenerStdout
from vigil.services.logfiles import resolve_logfile
from vigil.services.mainlog import MainLogger

PidLookup = Callable[[str, str], int]
Sink = ChildLog | ListenerStdout


class ProcessOutputs:
    def __init__(self, daemon: SupervisordConfig, mainlog: MainLogger, bus: EventBus) -> None:
        self._daemon = daemon
        self._mainlog = mainlog
        self._bus = bus
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
        return self._log(plain, "stdout", mainlog_debug=False)

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
        self, process: ProcessConfig, channel: Channel, *, mainlog_debug: bool = True
    ) -> ChildLog:
        stdout = channel == "stdout"
        configured = process.stdout_logfile if stdout else process.stderr_logfile
        if not stdout and process.redirect_stderr:
            configured = None
        path = resolve_logfile(
            configured,
            childlogdir=self._daemon.childlogdir,
            procname=process.name,
            channel=channel,
            identifier=self._daemon.identifier,
        )
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
        )

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
