"""The composition root: command line to config to supervisor to services to servers.

Everything with rules of its own lives in the layers below; this module only wires them
together and turns their errors into one line and an exit status.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from vigil import version_text
from vigil.clock import SystemClock
from vigil.config.cli import USAGE, DaemonArgs, UsageError, parse_daemon_args
from vigil.config.errors import ConfigError
from vigil.config.loader import inspect, load
from vigil.config.model import Config, GroupKind, LogLevel, ProcessConfig
from vigil.config.search import find_config, not_found_message
from vigil.core.bus import EventBus
from vigil.core.events import SupervisorStateChanged
from vigil.core.snapshot import ProcessSnapshot
from vigil.core.states import SupervisorState
from vigil.http.listeners import Listener, ServerStartError, bind_all
from vigil.runtime import daemon as proc
from vigil.runtime.container import container_mode
from vigil.runtime.leftovers import (
    ChildrenFile,
    child_records,
    children_file_path,
    stop_leftovers,
)
from vigil.runtime.lifecycle import Lifecycle, Outcome
from vigil.runtime.preflight import run_problems, startup_problem
from vigil.runtime.process import ProcessContext
from vigil.runtime.reaper import Reaper, become_subreaper
from vigil.runtime.sd_notify import ServiceNotifier, without_notify_socket
from vigil.runtime.signals import SignalActions, install_signal_intents
from vigil.runtime.spawn import close_on_exec_inherited
from vigil.runtime.supervisor import Supervisor
from vigil.services.essential import EssentialPrograms
from vigil.services.event_counts import EventCounts
from vigil.services.event_feed import EventFeed
from vigil.services.history import ProcessHistory
from vigil.services.listeners import ListenerPools
from vigil.services.logfiles import clean_auto_logs
from vigil.services.mainlog import MainLogger, PendingLog
from vigil.services.outputs import ProcessOutputs
from vigil.services.ticks import Ticks

if TYPE_CHECKING:
    from vigil.http.server import HttpServer
    from vigil.services.forwarding import Consoles
    from vigil.services.programs_up import AutostartUp

PROG = "supervisord"
# Imported only once the programs are spawned: the HTTP server and the RPC namespaces (with
# the reload and log-reading code they bring) serve no spawn.
HTTP_MODULES = (
    "vigil.http.assembly",
    "vigil.http.json_api",
    "vigil.http.logtail",
    "vigil.http.metrics",
    "vigil.http.rpc_handler",
    "vigil.http.server",
    "vigil.http.web",
    "vigil.services.rpc.registry",
    "vigil.services.rpc.supervisor_ns",
    "vigil.services.rpc.system_ns",
    "vigil.services.rpc.vigil_ns",
    "difflib",  # the config loader's suggestions for misspelt names, on a reread
)


class Fatal(Exception):
    """Startup cannot go on: print the message and exit with the status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def server_url(config: Config) -> str | None:
    """What children find in SUPERVISOR_SERVER_URL: the first unix server, else the first TCP."""
    if config.unix_servers:
        return f"unix://{config.unix_servers[0].file}"
    if config.inet_servers:
        inet = config.inet_servers[0]
        return f"http://{inet.host or 'localhost'}:{inet.port}"
    return None


class Daemon:
    """One life of the daemon, from reading the config to the end of a shutdown or restart."""

    def __init__(
        self,
        config: Config,
        args: DaemonArgs,
        *,
        first: bool,
        notifier: ServiceNotifier | None = None,
    ) -> None:
        self.config = config
        self.args = args
        self.first = first
        self.notifier = notifier  # systemd's NOTIFY_SOCKET, when started with one
        self.mainlog: MainLogger | None = None
        self._listeners: list[Listener] | None = None
        self.lifecycle = Lifecycle()
        # the daemon's stdout and stderr when programs' output is forwarded to them (made
        # at once in container mode, where that is the default)
        self.consoles: Consoles | None = None
        if container_mode(config.supervisord):
            from vigil.services.forwarding import Consoles

            self.consoles = Consoles(container=True)
        self.next_config: Config | None = None  # read and checked when a restart was asked

    # DaemonControl, for the RPC namespace
    def request_shutdown(self) -> None:
        self.lifecycle.shutdown()

    def request_restart(self) -> None:
        """Restart into the configuration as it is now, or refuse (ConfigError) with every
        problem in the main log: a broken file must not cost the running programs."""
        self.next_config = self._checked_config()
        self.lifecycle.restart()

    def _checked_config(self) -> Config:
        try:
            fresh = self.reread()
            unusable = startup_problem(fresh)  # what would stop the next life at its start
            if unusable is not None:
                raise ConfigError.single(unusable, fresh.path)
            return fresh
        except ConfigError as exc:
            errors = [problem for problem in exc.problems if problem.is_error]
            if self.mainlog is not None:
                self.mainlog.log(
                    LogLevel.ERRO,
                    f"restart refused, nothing was stopped: {self.config.path} has "
                    f"{len(errors)} error(s)",
                )
                for problem in errors:
                    self.mainlog.log(LogLevel.ERRO, str(problem))
            raise

    def reread(self) -> Config:
        return _with_args(load(self.config.path), self.args)

    def main_log_path(self) -> str | None:
        return None if self.mainlog is None else self.mainlog.path

    def clear_main_log(self) -> None:
        if self.mainlog is not None:
            self.mainlog.clear()

    def _is_listener_group(self, name: str) -> bool:
        """Whether the group being added is an event listener pool (in the config it comes
        from: the one read at startup, or the one reloadConfig read since)."""
        return any(
            group.name == name and group.kind is GroupKind.EVENTLISTENER
            for group in self.config.groups
        )

    async def run(self) -> Outcome:
        loop = asyncio.get_running_loop()
        settings = self.config.supervisord
        mainlog, bound = self._bound()
        bus = EventBus()
        reaper = Reaper(loop, mainlog)
        reaper.install()
        context = ProcessContext(
            loop,
            SystemClock(),
            reaper,
            bus,
            mainlog,
            without_notify_socket(os.environ),
            server_url(self.config),
        )
        outputs = ProcessOutputs(settings, mainlog, bus, self.consoles)
        supervisor = Supervisor(context, outputs)
        outputs.pid_of = lambda group, name: _pid_of(supervisor, group, name)
        listeners = ListenerPools(supervisor, settings.identifier, mainlog)
        outputs.listeners = listeners
        outputs.is_listener = self._is_listener_group
        ticks = Ticks(bus, context.clock, loop)
        feed = EventFeed(bus, epoch=int(context.clock.time() * 1000))  # from the first event
        counts = EventCounts(bus)
        history = ProcessHistory(bus, lambda group, name: _snapshot_of(supervisor, group, name))
        if not settings.nocleanup:
            clean_auto_logs(settings.childlogdir, settings.identifier, mainlog)
        for group in sorted(self.config.groups, key=lambda g: g.priority):
            supervisor.add_group(group)
        EssentialPrograms(
            bus,
            lambda group, name: _config_of(supervisor, group, name),
            lambda group, name: _snapshot_of(supervisor, group, name),
            lambda status, reason: self._essential_ended(status, reason, mainlog),
        )
        remove_signals = self._install_signals(loop, supervisor, mainlog)
        server: HttpServer | None = None
        startup: AutostartUp | None = None
        outcome = Outcome(SupervisorState.SHUTDOWN)
        children_file = None
        try:
            children_file = await self._own_the_tree(supervisor, bus, mainlog)
            self._write_pidfile(mainlog)
            mainlog.log(LogLevel.INFO, f"supervisord started with pid {os.getpid()}")
            ticks.start()
            bus.publish(SupervisorStateChanged(running=True))
            supervisor.autostart()
            startup = self._notify_when_up(bus, supervisor, mainlog)
            # The sockets are bound and queue connections already; the HTTP application
            # loads after the spawns.
            assembly = importlib.import_module("vigil.http.assembly")
            server = assembly.http_server(
                assembly.ServerParts(
                    self.config,
                    self,
                    supervisor,
                    outputs,
                    mainlog,
                    bound,
                    feed,
                    assembly.Observed(counts, history),
                )
            )
            await server.start()
            outcome = await self.lifecycle.outcome()
        finally:
            if startup is not None:
                startup.close()
            self._notify_ending(outcome, mainlog)
            # whatever ended this life, no child is left behind
            await supervisor.stop_everything(outcome.mood)
            remove_signals()
            ticks.close()
            if server is not None:
                await server.stop()
            else:
                for listener in bound:
                    listener.close()
            reaper.uninstall()
            for active in supervisor.groups.values():
                active.close()
            listeners.close()
            if children_file is not None:
                children_file.remove()
            if self.consoles is not None:
                self.consoles.close()
        if outcome.mood is SupervisorState.SHUTDOWN:
            proc.remove_pidfile(settings.pidfile)
        mainlog.close()
        return outcome

    def _notify_when_up(
        self, bus: EventBus, supervisor: Supervisor, mainlog: MainLogger
    ) -> AutostartUp | None:
        """READY=1 to the service manager once the autostart programs are up (RUNNING, so
        ready where readiness is configured), STATUS= lines until then."""
        notifier = self.notifier
        if notifier is None:
            return None
        from vigil.services.programs_up import AutostartUp

        def up(total: int) -> None:
            notifier.ready(f"Running: {total} program{'s' * (total != 1)} up")
            _log_unreported(notifier, mainlog)

        def progress(count: int, total: int) -> None:
            notifier.status(f"Starting: {count} of {total} programs up")
            _log_unreported(notifier, mainlog)

        _log_unreported(notifier, mainlog)  # MAINPID='s, sent before the log was open

        def find(group: str, name: str) -> tuple[ProcessConfig, ProcessSnapshot] | None:
            runner = supervisor.find(group, name)
            return None if runner is None else (runner.config, runner.snapshot())

        def every() -> Iterator[tuple[ProcessConfig, ProcessSnapshot]]:
            for runner in supervisor.runners():
                yield runner.config, runner.snapshot()

        return AutostartUp(bus, every, find, up, progress)

    def _notify_ending(self, outcome: Outcome, mainlog: MainLogger) -> None:
        """RELOADING=1 before a restart's stop (READY=1 follows from the next life),
        STOPPING=1 before a shutdown's."""
        if self.notifier is None:
            return
        if outcome.mood is SupervisorState.RESTARTING:
            self.notifier.reloading()
        else:
            self.notifier.stopping()
        _log_unreported(self.notifier, mainlog)

    def _essential_ended(self, status: int, reason: str, mainlog: MainLogger) -> None:
        if self.lifecycle.shutdown(status, reason):
            mainlog.log(LogLevel.WARN, reason)

    async def _own_the_tree(
        self, supervisor: Supervisor, bus: EventBus, mainlog: MainLogger
    ) -> ChildrenFile:
        """Take charge of every descendant, and of what a killed predecessor left."""
        # not inherited across daemonize()'s fork: asked for by the process that spawns
        become_subreaper()
        children_file = ChildrenFile(
            children_file_path(self.config.supervisord.pidfile),
            asyncio.get_running_loop(),
            lambda: child_records(supervisor.runners()),
            mainlog,
        )
        await stop_leftovers(children_file.path, mainlog)
        # only spawns add to what a killed daemon leaves; an exited child in the file is
        # harmless (checked by start time), so exits cost no write
        bus.subscribe("PROCESS_STATE_STARTING", lambda event: children_file.changed())
        return children_file

    def _open_main_log(self) -> MainLogger:
        settings = self.config.supervisord
        try:
            echo = None
            if self.consoles is not None:
                from vigil.services.forwarding import ConsoleText

                echo = ConsoleText(self.consoles.stdout)
            mainlog = MainLogger.from_config(settings, stdout=echo)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise Fatal(f"could not open the log file {settings.logfile}: {reason}") from None
        self.mainlog = mainlog
        pending = PendingLog()
        for message in self.config.infos:
            pending.log(LogLevel.INFO, message)
        for message in self.config.warnings:
            pending.log(LogLevel.WARN, message)
        if os.getuid() == 0 and settings.user is None:
            pending.log(
                LogLevel.CRIT,
                "Supervisor is running as root.  Privileges were not dropped because no user "
                "is specified in the config file.  If you intend to run as root, you can set "
                "user=root in the config file to avoid this message.",
            )
        pending.replay(mainlog)
        return mainlog

    async def bind(self) -> None:
        """Open the main log and bind every HTTP listener, before the daemon detaches, so
        that a refusal (port in use, another daemon on the socket) reaches the terminal."""
        mainlog = self._open_main_log()
        problem = startup_problem(self.config)
        if problem is not None:
            mainlog.log(LogLevel.CRIT, problem)
            mainlog.close()
            raise Fatal(problem)
        try:
            self._listeners = await bind_all(
                self.config.unix_servers, self.config.inet_servers, mainlog
            )
        except ServerStartError as exc:
            mainlog.log(LogLevel.CRIT, str(exc))
            mainlog.close()
            raise Fatal(str(exc)) from None

    def _bound(self) -> tuple[MainLogger, list[Listener]]:
        assert self.mainlog is not None and self._listeners is not None, "bind() comes first"
        return self.mainlog, self._listeners

    def _install_signals(
        self, loop: asyncio.AbstractEventLoop, supervisor: Supervisor, mainlog: MainLogger
    ) -> Callable[[], None]:
        def restart() -> None:
            with contextlib.suppress(ConfigError):  # refused, and said why in the log
                self.request_restart()

        def reopen() -> None:
            mainlog.reopen()
            for runner in supervisor.runners():
                runner.reopen_logs()

        actions = SignalActions(
            accepting=lambda: supervisor.mood is SupervisorState.RUNNING,
            shutdown=self.request_shutdown,
            restart=restart,
            reopen=reopen,
        )
        return install_signal_intents(loop, mainlog, actions)

    def _write_pidfile(self, mainlog: MainLogger) -> None:
        settings = self.config.supervisord
        if not self.first:
            return
        problem = proc.write_pidfile(settings.pidfile)
        if problem is not None:
            mainlog.log(LogLevel.CRIT, problem)


def _log_unreported(notifier: ServiceNotifier, mainlog: MainLogger) -> None:
    reason = notifier.unreported()
    if reason is not None:
        mainlog.log(LogLevel.WARN, reason)


def _config_of(supervisor: Supervisor, group: str, name: str) -> ProcessConfig | None:
    runner = supervisor.find(group, name)
    return None if runner is None else runner.config


def _snapshot_of(supervisor: Supervisor, group: str, name: str) -> ProcessSnapshot | None:
    runner = supervisor.find(group, name)
    return None if runner is None else runner.snapshot()


def _pid_of(supervisor: Supervisor, group: str, name: str) -> int:
    runner = supervisor.find(group, name)
    return 0 if runner is None else runner.pid


def _read_config(args: DaemonArgs) -> Config:
    path = args.configfile
    if path is None:
        path = find_config(sys.argv[0])
        if path is None:
            raise Fatal(not_found_message(sys.argv[0]))
    elif not os.path.exists(path):
        raise Fatal(f"could not find config file {path}")
    try:
        config = load(path)
    except ConfigError as exc:
        raise Fatal(str(exc)) from None
    return _with_args(config, args)


def _with_args(config: Config, args: DaemonArgs) -> Config:
    """The configuration with the command line's overrides; a container's main process stays
    in the foreground, whatever the file says."""
    settings = args.apply(config.supervisord)
    if container_mode(settings) and not settings.nodaemon:
        settings = dataclasses.replace(settings, nodaemon=True)
    return dataclasses.replace(config, supervisord=settings)


def _prepare_process(config: Config) -> None:
    settings = config.supervisord
    proc.ensure_standard_fds()
    close_on_exec_inherited()
    if settings.user is not None:
        # the new user may not be able to read the Python installation: load what is
        # otherwise loaded late (the HTTP application, after the spawns) while still root
        for module in HTTP_MODULES:
            importlib.import_module(module)
        proc.drop_privileges(settings.user)
    proc.raise_limits(settings.minfds, settings.minprocs)
    owner = proc.pidfile_owner(settings.pidfile) if not settings.nodaemon else None
    if owner is not None and _looks_like_us(owner):
        raise Fatal(
            f"Another supervisord appears to be running (pid {owner} per pidfile "
            f"{settings.pidfile}); shut it down first."
        )


def _looks_like_us(pid: int) -> bool:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as handle:
        return b"supervisord" in handle.read()
    return False


def _check_only(args: DaemonArgs) -> int:
    """``--check-config``: every problem of the file, then of running it on this machine.
    Errors exit 1; warnings alone are printed and exit 0."""
    path = args.configfile or find_config(sys.argv[0])
    if path is None:
        print(f"Error: {not_found_message(sys.argv[0])}", file=sys.stderr)
        return 2
    inspection = inspect(path)
    problems = list(inspection.problems)
    if inspection.config is not None:
        config = dataclasses.replace(
            inspection.config, supervisord=args.apply(inspection.config.supervisord)
        )
        # an option whose text is wrong is reported once, for its text
        wrong = {(p.section, p.option) for p in problems if p.is_error}
        found = run_problems(config, inspection.entry, os.environ, server_url(config))
        problems.extend(p for p in found if (p.section, p.option) not in wrong)
    files = {path: 0}
    for problem in problems:
        files.setdefault(problem.file, len(files))
    problems.sort(key=lambda p: (files[p.file], p.line))
    for problem in problems:
        print(problem)
    errors = sum(problem.is_error for problem in problems)
    if errors:
        return 1
    warnings = len(problems)
    print(f"{path}: OK" + (f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else ""))
    return 0


def supervisord_main(argv: Sequence[str] | None = None) -> None:
    try:
        args = parse_daemon_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        sys.stderr.write(f"Error: {exc}\nFor help, use {PROG} -h\n")
        sys.exit(2)
    if args.help:
        sys.stdout.write(USAGE % {"prog": PROG} + "\n")
        sys.exit(0)
    if args.version:
        print(version_text())
        sys.exit(0)
    if args.check_config:
        sys.exit(_check_only(args))
    status = _run(args)
    # Everything the daemon owns is stopped, closed and flushed by now. The interpreter's own
    # teardown (freeing every module, the HTTP stack's included) would put tens of
    # milliseconds between the last child's exit and ours, which a service manager waits for.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _run(args: DaemonArgs) -> int:
    try:
        config = _read_config(args)
    except Fatal as exc:
        _report(exc.message)
        return exc.status
    try:
        _prepare_process(config)
    except (Fatal, proc.DaemonSetupError) as exc:
        _report(exc.message if isinstance(exc, Fatal) else str(exc))
        return 2
    first = True
    notifier = ServiceNotifier.from_environment(os.environ)
    while True:
        daemon = Daemon(config, args, first=first, notifier=notifier)
        try:
            asyncio.run(daemon.bind())
            if first and not config.supervisord.nodaemon:
                # asyncio does not survive a fork inside a running loop: detach between loops
                proc.daemonize(config.supervisord.directory, config.supervisord.umask)
                if notifier is not None:
                    notifier.main_pid()  # the process systemd started is gone
            outcome = asyncio.run(daemon.run())
        except Fatal as exc:
            _report(exc.message)
            return exc.status
        except OSError as exc:
            # something the start-up checks could not foresee: one line, and nothing left
            _abandon(daemon, f"{exc.filename or 'start-up'}: {exc.strerror or exc}")
            return 2
        if outcome.mood is SupervisorState.SHUTDOWN:
            return outcome.status
        first = False
        # a restart is only decided once its configuration has loaded (request_restart)
        assert daemon.next_config is not None
        config = daemon.next_config


def _report(message: str) -> None:
    """A start-up failure on stderr: one line per problem, without Supervisor's "For help"
    line (kept for usage errors only: the failure is not about how the command was used)."""
    sys.stderr.write(f"Error: {message}\n")


def _abandon(daemon: Daemon, message: str) -> None:
    """Give up a start that failed half-way: say why, then remove the socket files and the
    pidfile this daemon made, so that nothing suggests it is running."""
    if daemon.mainlog is not None:
        daemon.mainlog.log(LogLevel.CRIT, message)
        daemon.mainlog.close()
    for listener in daemon._listeners or ():
        listener.close()
    pidfile = daemon.config.supervisord.pidfile
    if daemon.first and _names_us(pidfile):
        proc.remove_pidfile(pidfile)
    _report(message)


def _names_us(pidfile: str) -> bool:
    with contextlib.suppress(OSError, ValueError), open(pidfile) as handle:
        return int(handle.read().strip() or 0) == os.getpid()
    return False
