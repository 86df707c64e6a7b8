"""What will fail when a configuration runs on this machine, found before it runs.

The config layer reports what is wrong with the text of a file; this module looks at the
machine: commands that cannot be found or run (resolved by `resolve_command` in the child's
own environment, as the daemon resolves them at spawn), working directories that do not
exist, log, pid and socket files whose directories the daemon cannot write. The results are
the config layer's `Problem` objects, placed at the option that needs changing.

`run_problems` is ``supervisord --check-config``'s; it only looks (stat, access), since it
may run as another user than the daemon will. `startup_problem` is the one check the daemon
itself makes before it detaches: AUTO child logs are created later, after the terminal is
gone, so an unusable childlogdir must be found while it can still be reported.
"""

from __future__ import annotations

import os
import pwd
import shlex
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from vigil.config.errors import Problem
from vigil.config.ini import Entry, entry_problem
from vigil.config.model import AUTO, Config, Logfile, ProcessConfig
from vigil.runtime.command import CommandError, resolve_command
from vigil.runtime.process import child_environment
from vigil.runtime.tls import TlsError, server_context

SUPERVISORD = "supervisord"
# Finds the text an option was given as: (section, option) -> its entry, or None.
Locate = Callable[[str, str], Entry | None]


@dataclass(frozen=True)
class Identity:
    """Who the daemon will be once it has dropped privileges (``[supervisord] user``)."""

    name: str
    uid: int
    gids: frozenset[int]

    @classmethod
    def of(cls, user: str | None) -> Identity:
        if user is None:
            uid = os.geteuid()
            gids = frozenset({os.getegid(), *os.getgroups()})
            return cls(_user_name(uid), uid, gids)
        try:
            entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        except KeyError:  # the config layer reports an unknown user
            return cls.of(None)
        groups = os.getgrouplist(entry.pw_name, entry.pw_gid)
        return cls(entry.pw_name, entry.pw_uid, frozenset(groups))

    @property
    def is_self(self) -> bool:
        return self.uid == os.geteuid()


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def run_problems(
    config: Config, locate: Locate, base_env: Mapping[str, str], server_url: str | None
) -> list[Problem]:
    """Every run-time problem of a loaded configuration, each placed at its option."""
    checker = _Checker(config, locate)
    found = [*checker.daemon_files(), *checker.processes(base_env, server_url)]
    unique: list[Problem] = []
    for problem in found:  # numprocs copies of one section share their problems
        if problem not in unique:
            unique.append(problem)
    return unique


def startup_problem(config: Config) -> str | None:
    """Why the daemon cannot start here, found before it detaches (one line), or None.

    Cheap on purpose (a stat per socket, one file created and removed in childlogdir):
    it runs at every start.
    """
    for server in config.unix_servers:
        directory = os.path.dirname(server.file)
        if not os.path.isdir(directory):
            return f"cannot create the socket {server.file}: directory {directory} does not exist"
    for inet in config.inet_servers:
        if inet.certfile is not None:
            try:
                server_context(inet)  # loads OpenSSL: only daemons that serve HTTPS pay it
            except TlsError as exc:
                return str(exc)
    childlogdir = config.supervisord.childlogdir
    if not _uses_childlogdir(config):
        return None
    try:
        with tempfile.TemporaryFile(dir=childlogdir, prefix=".vigil-probe-"):
            pass
    except OSError as exc:
        return f"cannot create child log files in childlogdir {childlogdir}: {_reason(exc)}"
    return None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _uses_childlogdir(config: Config) -> bool:
    return any(logfile is AUTO for process in _processes(config) for logfile in _logfiles(process))


def _processes(config: Config) -> Iterator[ProcessConfig]:
    for group in config.groups:
        yield from group.processes


def _logfiles(process: ProcessConfig) -> tuple[Logfile, ...]:
    if process.redirect_stderr:
        return (process.stdout_logfile,)
    return (process.stdout_logfile, process.stderr_logfile)


class _Checker:
    def __init__(self, config: Config, locate: Locate) -> None:
        self.config = config
        self.locate = locate
        settings = config.supervisord
        self.identity = Identity.of(settings.user)
        # where the daemon runs a relative command from when a program has no directory
        self.daemon_cwd = settings.directory if not settings.nodaemon else None

    def problem(self, section: str, option: str, message: str) -> Problem:
        entry = self.locate(section, option)
        if entry is None:  # a default value: the section is the place to change
            section_entry = self._section_place(section)
            return Problem(
                message=message,
                file=section_entry[0],
                line=section_entry[1],
                section=section,
                option=option,
            )
        return entry_problem(entry, section, option, message)

    def _section_place(self, section: str) -> tuple[str, int]:
        for process in _processes(self.config):
            if process.source.section == section:
                return process.source.file, process.source.line
        return self.config.path, 0

    # the daemon's own files

    def daemon_files(self) -> Iterator[Problem]:
        settings = self.config.supervisord
        if settings.logfile != "syslog":
            yield from self._file(SUPERVISORD, "logfile", settings.logfile, "the main log")
        yield from self._file(SUPERVISORD, "pidfile", settings.pidfile, "the pidfile")
        if _uses_childlogdir(self.config):
            reason = self._unwritable_directory(settings.childlogdir)
            if reason is not None:
                yield self.problem(
                    SUPERVISORD,
                    "childlogdir",
                    f"AUTO child logs cannot be created in {settings.childlogdir}: {reason}",
                )
        for server in self.config.unix_servers:
            reason = self._unwritable_directory(os.path.dirname(server.file))
            if reason is not None:
                yield self.problem(
                    server.name, "file", f"the socket {server.file} cannot be created: {reason}"
                )
        for inet in self.config.inet_servers:
            if inet.certfile is not None:
                try:
                    server_context(inet)  # the certificate and key as the daemon will load them
                except TlsError as exc:
                    yield self.problem(inet.name, "certfile", str(exc))

    def _file(self, section: str, option: str, path: str, what: str) -> Iterator[Problem]:
        """A file the daemon opens for writing: it must be writable where it is, or be
        creatable in its directory."""
        if os.path.lexists(path):
            reason = self._unwritable(path, directory=False)
            if reason is not None:
                yield self.problem(section, option, f"{what} {path} cannot be written: {reason}")
            return
        reason = self._unwritable_directory(os.path.dirname(path) or ".")
        if reason is not None:
            yield self.problem(section, option, f"{what} {path} cannot be created: {reason}")

    def _unwritable_directory(self, path: str) -> str | None:
        if not os.path.exists(path):
            return f"directory {path} does not exist"
        if not os.path.isdir(path):
            return f"{path} is not a directory"
        return self._unwritable(path, directory=True)

    def _unwritable(self, path: str, *, directory: bool) -> str | None:
        """Why the daemon's identity cannot write ``path`` (and enter it, for a directory)."""
        try:
            if os.statvfs(path).f_flag & os.ST_RDONLY:
                return f"{path} is on a read-only file system"
            info = os.stat(path)
        except OSError as exc:
            return f"{path}: {_reason(exc)}"
        need = os.W_OK | (os.X_OK if directory else 0)
        if self.identity.is_self:
            allowed = os.access(path, need)
        else:
            allowed = _mode_allows(info, self.identity, need)
        if allowed:
            return None
        return f"{path} is not writable by user {self.identity.name}"

    # the programs

    def processes(self, base_env: Mapping[str, str], server_url: str | None) -> Iterator[Problem]:
        for process in _processes(self.config):
            section = process.source.section
            if process.directory is not None and not os.path.isdir(process.directory):
                yield self.problem(
                    section, "directory", f"directory {process.directory} does not exist"
                )
            yield from self._command(process, section, base_env, server_url)
            for channel, logfile in zip(("stdout", "stderr"), _logfiles(process), strict=False):
                if isinstance(logfile, str):
                    yield from self._file(
                        section, f"{channel}_logfile", logfile, f"the {channel} log"
                    )

    def _command(
        self,
        process: ProcessConfig,
        section: str,
        base_env: Mapping[str, str],
        server_url: str | None,
    ) -> Iterator[Problem]:
        environment = child_environment(process, base_env, server_url)
        try:
            resolve_command(process.command, environment, process.directory or self.daemon_cwd)
        except CommandError as exc:
            yield self.problem(section, "command", exc.message + self._cut_hint(section, process))

    def _cut_hint(self, section: str, process: ProcessConfig) -> str:
        """Why a command may not parse: its line held a ``;`` or ``#`` after a space, which
        starts a comment, so the rest of the line was cut off."""
        entry = self.locate(section, "command")
        if entry is None or not entry.comment or _parses(process.command):
            return ""
        return (
            f" (the rest of the line, {entry.comment!r}, was read as a comment: ';' or '#' "
            "after a space starts one; remove the space before it)"
        )


def _parses(command: str) -> bool:
    try:
        shlex.split(command)
    except ValueError:
        return False
    return True


def _mode_allows(info: os.stat_result, identity: Identity, need: int) -> bool:
    """Permission bits as the kernel applies them to another user (ACLs aside)."""
    if identity.uid == 0:
        return not need & os.X_OK or bool(info.st_mode & 0o111) or stat.S_ISDIR(info.st_mode)
    if info.st_uid == identity.uid:
        bits = (info.st_mode >> 6) & 0o7
    elif info.st_gid in identity.gids:
        bits = (info.st_mode >> 3) & 0o7
    else:
        bits = info.st_mode & 0o7
    return bits & need == need


__all__ = ["Identity", "Locate", "run_problems", "startup_problem"]
