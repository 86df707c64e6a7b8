"""The supervisor.* namespace: Supervisor 4.3's XML-RPC interface, method for method.

Process control lives in process_control.py; this module holds information, logs, the
daemon's own methods and configuration changes, and composes the namespace.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Protocol

from vigil import API_VERSION, SUPERVISOR_COMPAT_VERSION
from vigil.config.diff import diff
from vigil.config.errors import ConfigError
from vigil.config.model import AUTO, Config, GroupConfig
from vigil.core.events import Channel, RemoteCommunication
from vigil.core.naming import make_namespec
from vigil.core.snapshot import ProcessSnapshot
from vigil.faults import Faults, RPCError
from vigil.runtime.process import ProcessRunner
from vigil.runtime.supervisor import Supervisor
from vigil.services.logread import read_file, tail_file
from vigil.services.rpc.process_control import ProcessControl, Result, result
from vigil.services.rpc.registry import published

INT32_MAX = 2**31 - 1

# Offsets and lengths arrive as <int>, as <double> or as strings from clients that write XML by
# hand (a <value> without a type is a string); Supervisor converts each with int().
Integer = int | float | str


def as_int(value: Integer, what: str) -> int:
    try:
        return int(value)
    except (ValueError, OverflowError):
        raise RPCError(Faults.INCORRECT_PARAMETERS, f"{what} must be an integer") from None


class DaemonControl(Protocol):
    """What the daemon (the composition root) lets RPC callers ask of it."""

    config: Config  # the configuration as last read (reloadConfig replaces it)

    def request_shutdown(self) -> None: ...

    def request_restart(self) -> None: ...

    def reread(self) -> Config: ...

    def main_log_path(self) -> str | None: ...

    def clear_main_log(self) -> None: ...


def capped(value: float) -> int:
    """A number as XML-RPC's <int> can carry it (times past 2038 included), as 4.3.0 sends."""
    whole = int(value)
    if -INT32_MAX - 1 <= whole <= INT32_MAX:
        return whole
    return INT32_MAX if whole > 0 else -INT32_MAX - 1


def process_info(snapshot: ProcessSnapshot) -> dict[str, Any]:
    """getProcessInfo's struct: Supervisor's keys, with "" and 0 for what is not there."""
    stdout = snapshot.stdout_logfile or ""
    return {
        "name": snapshot.name,
        "group": snapshot.group,
        "start": capped(snapshot.started_at),
        "stop": capped(snapshot.stopped_at),
        "now": capped(snapshot.taken_at),
        "state": int(snapshot.state),
        "statename": snapshot.state.name,
        "spawnerr": snapshot.spawn_error or "",
        "exitstatus": snapshot.exit_status or 0,
        "logfile": stdout,
        "stdout_logfile": stdout,
        "stderr_logfile": snapshot.stderr_logfile or "",
        "pid": snapshot.pid,
        "description": snapshot.description,
    }


class SupervisorNamespace(ProcessControl):
    def __init__(self, supervisor: Supervisor, daemon: DaemonControl) -> None:
        self.supervisor = supervisor
        self.daemon = daemon

    # -- the daemon -----------------------------------------------------------------------

    @published
    async def getAPIVersion(self) -> str:
        """Return the version of the RPC API used by supervisord.

        @return string version id
        """
        self._check_running()
        return API_VERSION

    getVersion = getAPIVersion

    @published
    async def getSupervisorVersion(self) -> str:
        """Return the version of the Supervisor interface this daemon implements.

        @return string version id
        """
        self._check_running()
        return SUPERVISOR_COMPAT_VERSION

    @published
    async def getIdentification(self) -> str:
        """Return the identifier of this daemon ([supervisord] identifier).

        @return string identifier identifying string
        """
        self._check_running()
        return self.daemon.config.supervisord.identifier

    @published
    async def getState(self) -> dict[str, Any]:
        """Return the daemon's current state.

        @return struct A struct with keys int statecode, string statename
        """
        self._check_running()
        mood = self.supervisor.mood
        return {"statecode": int(mood), "statename": mood.name}

    @published
    async def getPID(self) -> int:
        """Return the PID of supervisord.

        @return int PID
        """
        self._check_running()
        return os.getpid()

    @published
    async def shutdown(self) -> bool:
        """Shut the daemon down (its processes first).

        @return boolean result always returns True unless error
        """
        self._check_running()
        self.daemon.request_shutdown()
        return True

    @published
    async def restart(self) -> bool:
        """Restart the daemon: read the configuration again, stop everything, start.
        A configuration that does not load is refused with CANT_REREAD before anything stops.

        @return boolean result always return True unless error
        """
        self._check_running()
        try:
            self.daemon.request_restart()
        except ConfigError as exc:
            # nothing is stopped: a broken file must not cost the running programs
            raise RPCError(Faults.CANT_REREAD, str(exc)) from None
        return True

    @published
    async def sendRemoteCommEvent(self, type: Any, data: Any) -> bool:
        """Send a REMOTE_COMMUNICATION event to the event listeners that subscribe to it.

        @param string type String for the "type" key in the event header
        @param string data Data for the event body
        @return boolean Always return True unless error
        """
        # 4.3.0 formats whatever it is given into the payload, so a number is sent as its digits
        event = RemoteCommunication(str(type), str(data))
        self.supervisor.context.bus.publish(event)
        return True

    # -- configuration ------------------------------------------------------------------

    @published
    async def reloadConfig(self) -> list[list[list[str]]]:
        """Read the configuration again; report what differs from the running groups.

        @return array result [[added, changed, removed]]
        """
        self._check_running()
        self.daemon.config = self._reread()
        return [list(self.pending_changes(self.daemon.config))]

    def pending_changes(self, config: Config) -> tuple[list[str], list[str], list[str]]:
        active = tuple(group.config for group in self.supervisor.groups.values())
        found = diff(dataclasses.replace(config, groups=active), config)
        return list(found.added), list(found.changed), list(found.removed)

    def _reread(self) -> Config:
        try:
            return self.daemon.reread()
        except ConfigError as exc:
            raise RPCError(Faults.CANT_REREAD, str(exc)) from None

    @published
    async def addProcessGroup(self, name: str) -> bool:
        """Start managing a group from the configuration as last read.

        @param string name name of process group to add
        @return boolean result true if successful
        """
        self._check_running()
        config = self._configured_group(name)
        if not self.supervisor.add_group(config):
            raise RPCError(Faults.ALREADY_ADDED, name)
        self.supervisor.autostart(self.supervisor.groups[name])
        return True

    def _configured_group(self, name: str) -> GroupConfig:
        for group in self.daemon.config.groups:
            if group.name == name:
                return group
        raise RPCError(Faults.BAD_NAME, name)

    @published
    async def removeProcessGroup(self, name: str) -> bool:
        """Stop managing a group whose processes are all stopped.

        @param string name name of process group to remove
        @return boolean result Indicates whether the removal was successful
        """
        self._check_running()
        if name not in self.supervisor.groups:
            raise RPCError(Faults.BAD_NAME, name)
        if not self.supervisor.remove_group(name):
            raise RPCError(Faults.STILL_RUNNING, name)
        return True

    @published
    async def getAllConfigInfo(self) -> list[dict[str, Any]]:
        """Return the configuration of every process, groups flattened, sorted by name.

        @return array result An array of process config info structs
        """
        self._check_running()
        infos = []
        for group in self.daemon.config.groups:
            active = self.supervisor.groups.get(group.name)
            # AUTO logs show their file only when the running group was made from this very
            # configuration: after reloadConfig they read 'auto' again, as in 4.3.0, where the
            # names are filled in on the config objects a group is created from.
            source = active if active is not None and active.config is group else None
            for process in group.processes:
                runner = None if source is None else source.runners.get(process.name)
                snapshot = None if runner is None else runner.snapshot()
                infos.append(_config_info(group, process, active is not None, snapshot))
        infos.sort(key=lambda info: str(info["name"]))
        return infos

    # -- processes ------------------------------------------------------------------------

    @published
    async def getProcessInfo(self, name: str) -> dict[str, Any]:
        """Return information about one process.

        @param string name The name of the process (or 'group:name')
        @return struct result A structure containing data about the process
        """
        self._check_running()
        _, runner = self._lookup(name)
        if runner is None:
            raise RPCError(Faults.BAD_NAME, name)
        return process_info(runner.snapshot())

    @published
    async def getAllProcessInfo(self) -> list[dict[str, Any]]:
        """Return information about every process, sorted by group then name.

        @return array result An array of process status results
        """
        self._check_running()
        infos = []
        for group_name in sorted(self.supervisor.groups):
            runners = self.supervisor.groups[group_name].runners
            for process_name in sorted(runners):
                infos.append(process_info(runners[process_name].snapshot()))
        return infos

    # -- logs -----------------------------------------------------------------------------

    @published
    async def readLog(self, offset: Integer, length: Integer) -> str:
        """Read length bytes from the main log starting at offset.

        @param int offset offset to start reading from.
        @param int length number of bytes to read from the log.
        @return string result Bytes of log
        """
        self._check_running()
        path = self.daemon.main_log_path()
        if path is None or not os.path.exists(path):
            raise RPCError(Faults.NO_FILE, path)
        return read_file(path, as_int(offset, "offset"), as_int(length, "length"))

    readMainLog = readLog

    @published
    async def clearLog(self) -> bool:
        """Clear the main log.

        @return boolean result always returns True unless error
        """
        self._check_running()
        path = self.daemon.main_log_path()
        if path is None or not os.path.exists(path):
            raise RPCError(Faults.NO_FILE)
        try:
            self.daemon.clear_main_log()
        except OSError:
            raise RPCError(Faults.FAILED) from None
        return True

    def _process_log(self, name: str, channel: Channel) -> str | None:
        _, runner = self._lookup(name)
        if runner is None:
            raise RPCError(Faults.BAD_NAME, name)
        return runner.snapshot().logfile(channel)

    def _read(self, name: str, offset: Integer, length: Integer, channel: Channel) -> str:
        path = self._process_log(name, channel)
        if path is None or not os.path.exists(path):
            raise RPCError(Faults.NO_FILE, path)  # no log at all: plain "NO_FILE", as 4.3.0
        return read_file(path, as_int(offset, "offset"), as_int(length, "length"))

    def _tail(self, name: str, offset: Integer, length: Integer, channel: Channel) -> list[Any]:
        path = self._process_log(name, channel)
        if path is None or not os.path.exists(path):
            return ["", 0, False]
        return list(tail_file(path, as_int(offset, "offset"), as_int(length, "length")))

    @published
    async def readProcessStdoutLog(self, name: str, offset: Integer, length: Integer) -> str:
        """Read length bytes from name's stdout log starting at offset.

        @param string name the name of the process (or 'group:name')
        @param int offset offset to start reading from.
        @param int length number of bytes to read from the log.
        @return string result Bytes of log
        """
        self._check_running()
        return self._read(name, offset, length, "stdout")

    readProcessLog = readProcessStdoutLog

    @published
    async def readProcessStderrLog(self, name: str, offset: Integer, length: Integer) -> str:
        """Read length bytes from name's stderr log starting at offset.

        @param string name the name of the process (or 'group:name')
        @param int offset offset to start reading from.
        @param int length number of bytes to read from the log.
        @return string result Bytes of log
        """
        self._check_running()
        return self._read(name, offset, length, "stderr")

    @published
    async def tailProcessStdoutLog(self, name: str, offset: Integer, length: Integer) -> list[Any]:
        """Tail name's stdout log: at most length bytes from offset, jumping to the end
        (overflow true) when more than that is available.

        @param string name the name of the process (or 'group:name')
        @param int offset offset to start reading from
        @param int length maximum number of bytes to return
        @return array result [string bytes, int offset, bool overflow]
        """
        self._check_running()
        return self._tail(name, offset, length, "stdout")

    tailProcessLog = tailProcessStdoutLog

    @published
    async def tailProcessStderrLog(self, name: str, offset: Integer, length: Integer) -> list[Any]:
        """Tail name's stderr log, as tailProcessStdoutLog does for stdout.

        @param string name the name of the process (or 'group:name')
        @param int offset offset to start reading from
        @param int length maximum number of bytes to return
        @return array result [string bytes, int offset, bool overflow]
        """
        self._check_running()
        return self._tail(name, offset, length, "stderr")

    @published
    async def clearProcessLogs(self, name: str) -> bool:
        """Clear the stdout and stderr logs of the named process and reopen them.

        @param string name The name of the process (or 'group:name')
        @return boolean result Always True unless error
        """
        self._check_running()
        _, runner = self._lookup(name)
        if runner is None:
            raise RPCError(Faults.BAD_NAME, name)
        self._clear(runner, name)
        return True

    clearProcessLog = clearProcessLogs

    def _clear(self, runner: ProcessRunner, name: str) -> None:
        try:
            runner.clear_logs()
        except OSError:
            raise RPCError(Faults.FAILED, name) from None

    @published
    async def clearAllProcessLogs(self) -> list[Result]:
        """Clear every process's logs.

        @return array result An array of process status info structs
        """
        self._check_running()
        results = []
        for runner in self._all_runners():
            try:
                self._clear(runner, make_namespec(runner.group, runner.name))
            except RPCError as exc:
                results.append(result(runner, exc.code, exc.text))
            else:
                results.append(result(runner))
        return results


def _config_info(
    group: GroupConfig, process: Any, inuse: bool, running: ProcessSnapshot | None
) -> dict[str, Any]:
    def shown(value: object) -> object:
        if value is None:
            return "none"
        if value is AUTO:
            return "auto"
        return value

    def logfile(channel: Channel, configured: object) -> object:
        if running is not None:
            return shown(running.logfile(channel))
        return shown(configured)

    return {
        "autostart": process.autostart,
        "directory": shown(process.directory),
        "uid": shown(process.uid),
        "command": process.command,
        "exitcodes": list(process.exitcodes),
        "group": group.name,
        "group_prio": group.priority,
        "inuse": inuse,
        "killasgroup": process.killasgroup,
        "name": process.name,
        "process_prio": process.priority,
        "redirect_stderr": process.redirect_stderr,
        "startretries": process.startretries,
        "startsecs": process.startsecs,
        "stdout_capture_maxbytes": process.stdout_capture_maxbytes,
        "stdout_events_enabled": process.stdout_events_enabled,
        "stdout_logfile": logfile("stdout", process.stdout_logfile),
        "stdout_logfile_backups": process.stdout_logfile_backups,
        "stdout_logfile_maxbytes": process.stdout_logfile_maxbytes,
        "stdout_syslog": process.stdout_syslog,
        "stopsignal": int(process.stopsignal),
        "stopwaitsecs": process.stopwaitsecs,
        "stderr_capture_maxbytes": process.stderr_capture_maxbytes,
        "stderr_events_enabled": process.stderr_events_enabled,
        "stderr_logfile": logfile("stderr", process.stderr_logfile),
        "stderr_logfile_backups": process.stderr_logfile_backups,
        "stderr_logfile_maxbytes": process.stderr_logfile_maxbytes,
        "stderr_syslog": process.stderr_syslog,
        # serverurl=AUTO means "the daemon's own", which 4.3.0 stores (and shows) as none
        "serverurl": "none" if process.serverurl is AUTO else shown(process.serverurl),
    }
