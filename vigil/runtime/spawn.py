"""Starting one child: pipes, its own process group, a clean signal state, then exec.

On Linux every child gets a parent-death signal: it must not outlive a daemon that was killed
(OOM killer, SIGKILL), or the next daemon would start a second copy beside it. Only code that
runs in the child between fork and exec can ask for one, and it is set race-free: after
setting it, the child checks that its parent is still the daemon, and gives up if not. A
plain child (no working directory, umask or user) is started by the compiled
``_vfork_spawn`` (vfork, a few system calls, exec) at posix_spawn's speed; the others, and
every child where that module could not be built, go through os.fork(), which copies the
daemon's page tables and costs milliseconds. All signals are blocked across the fork, so a
stop signal sent between fork and exec stays pending until exec and is then delivered, never
swallowed. Elsewhere than Linux, programs that need no working directory, umask or user go
through posix_spawn. Exec failures of every path come back as a SpawnError with the reason,
not as an exit 127.

A program's rlimit_*, nice and oom_score_adjust are set by the child on itself before exec,
while it still has the daemon's privileges (raising a hard limit and lowering an OOM score
need them), then it drops them; a setting that cannot be made is a failed spawn that names it.
A program with `user` gets that user's HOME, USER, LOGNAME and SHELL for the names its
environment (and [supervisord]'s) does not set.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C half, plain numbers
import contextlib
import ctypes
import errno
import os
import pwd
import resource
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigil.config.model import ProcessConfig

CATCHABLE = frozenset(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}
PR_SET_PDEATHSIG = 1
HAS_PARENT_DEATH_SIGNAL = sys.platform.startswith("linux")
# The steps of _vfork_spawn.c's child, as its failures name them.
_VFORK_STEPS = {1: "setpgid", 2: "dup2", 3: "set the parent-death signal", 4: "spawn (daemon gone)"}
_STEP_EXEC = 5
_STEP_NICE = 6
_STEP_OOM_SCORE_ADJ = 7
_STEP_RLIMIT = 16  # + the index of the limit in the list given
# os.fsencode's codec, looked up once: fsencode checks its argument's type at each call, half
# the cost of encoding a child's environment (about 40 variables) at every spawn
_FS_CODEC = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())

try:  # built at install where a C compiler is found (Linux); os.fork() does the same, slower
    from vigil.runtime import _vfork_spawn
except ImportError:  # pragma: no cover - depends on the installation
    _vfork_spawn = None  # type: ignore[assignment]


class SpawnError(Exception):
    """The child could not be started. `pid` is set when a forked child failed before exec:
    it still exits, and its status must be reaped quietly."""

    def __init__(self, message: str, pid: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.pid = pid


@dataclass(frozen=True)
class SpawnRequest:
    filename: str
    argv: list[str]
    env: dict[str, str]
    directory: str | None = None
    umask: int | None = None
    uid: int | None = None
    redirect_stderr: bool = False
    stdin_fd: int | None = None  # a socket to use as fd 0 instead of a pipe (fcgi-program)
    death_signal: int | None = None  # sent to the child if the daemon dies (Linux)
    # the program's configuration, for what the child sets up before exec beyond the above
    program: ProcessConfig | None = None


@dataclass(frozen=True)
class ChildSettings:
    """What the child sets on itself before exec: (option, resource, soft, hard) per limit
    (a negative value is unlimited), its nice value and its OOM score adjustment."""

    limits: tuple[tuple[str, int, int, int], ...] = ()
    nice: int | None = None
    oom_score_adj: int | None = None

    def __bool__(self) -> bool:
        return bool(self.limits) or self.nice is not None or self.oom_score_adj is not None

    def limit_failure(self, index: int, number: int) -> str:
        return f"could not set {self.limits[index][0]}: {os.strerror(number)}"

    def nice_failure(self, number: int) -> str:
        return f"could not set nice to {self.nice}: {os.strerror(number)}"

    def oom_failure(self, number: int) -> str:
        return f"could not set oom_score_adjust to {self.oom_score_adj}: {os.strerror(number)}"


_NO_SETTINGS = ChildSettings()


def child_settings(program: ProcessConfig | None) -> ChildSettings:
    """The settings of `program`, none without one or without the options."""
    if program is None:
        return _NO_SETTINGS
    from vigil.config.host_keys import RLIMIT_RESOURCES  # loaded with the config already

    limits = tuple(
        (option, number, limit[0], limit[1])
        for option, (number, _sized) in RLIMIT_RESOURCES.items()
        if (limit := getattr(program, option)) is not None
    )
    if not limits and program.nice is None and program.oom_score_adjust is None:
        return _NO_SETTINGS
    return ChildSettings(limits, program.nice, program.oom_score_adjust)


def with_user_environment(env: dict[str, str], program: ProcessConfig | None) -> dict[str, str]:
    """`env` with the HOME, USER, LOGNAME and SHELL of the program's `user` (Supervisor
    #1171) where the program's own environment (which holds [supervisord]'s and its env
    files') does not set them: the daemon's inherited ones name the daemon's user."""
    if program is None or not program.user_environment:
        return env
    own = {name for name, _value in program.environment}
    merged = dict(env)
    for name, value in program.user_environment:
        if name not in own:
            merged[name] = value
    return merged


@dataclass
class Child:
    pid: int
    stdin: int | None  # our end of the child's stdin pipe
    stdout: int
    stderr: int | None  # None when stderr is redirected into stdout


def spawn(request: SpawnRequest) -> Child:
    """Start the child or raise SpawnError; the caller owns the returned descriptors."""
    ours: list[int] = []
    theirs: list[int] = []
    try:
        stdin_r, stdin_w = _pipe(ours, theirs, child_reads=True, wanted=request.stdin_fd is None)
        out_r, out_w = _pipe(ours, theirs, child_reads=False, wanted=True)
        err_r, err_w = _pipe(ours, theirs, child_reads=False, wanted=not request.redirect_stderr)
    except OSError as exc:
        _close(ours + theirs)
        if exc.errno == errno.EMFILE:
            raise SpawnError("too many open files to spawn") from None
        raise SpawnError(f"unknown error making pipes: {exc}") from None
    child_stdin = request.stdin_fd if request.stdin_fd is not None else stdin_r
    assert child_stdin is not None and out_w is not None
    child_fds = (child_stdin, out_w, err_w if err_w is not None else out_w)
    settings = child_settings(request.program)
    if request.program is not None and request.program.user_environment:
        request = replace(request, env=with_user_environment(request.env, request.program))
    try:
        if _vfork_spawn is not None and _plain_with_death_signal(request):
            pid = _vfork_exec(request, child_fds, settings)
        elif settings or _needs_fork(request):
            pid = _fork_exec(request, child_fds, settings)
        else:
            pid = _posix_spawn(request, child_fds)
    except BaseException:
        _close(ours + theirs)
        raise
    _close(theirs)
    assert out_r is not None
    return Child(pid, stdin_w, out_r, err_r)


def _pipe(
    ours: list[int], theirs: list[int], *, child_reads: bool, wanted: bool
) -> tuple[int | None, int | None]:
    if not wanted:
        return None, None
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    mine, child = (write_end, read_end) if child_reads else (read_end, write_end)
    ours.append(mine)
    theirs.append(child)
    os.set_blocking(mine, False)
    return read_end, write_end


def _close(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _plain_with_death_signal(request: SpawnRequest) -> bool:
    return (
        request.death_signal is not None
        and HAS_PARENT_DEATH_SIGNAL
        and request.directory is None
        and request.umask is None
        and (request.uid is None or request.uid == os.getuid())
    )


def _vfork_exec(request: SpawnRequest, fds: tuple[int, int, int], settings: ChildSettings) -> int:
    """The compiled path: vfork, parent-death signal, settings, exec (see _vfork_spawn.c)."""
    assert _vfork_spawn is not None and request.death_signal is not None
    env = [f"{key}={value}".encode(*_FS_CODEC) for key, value in request.env.items()]
    argv = [arg.encode(*_FS_CODEC) for arg in request.argv]
    # as os.fork and os.posix_spawn are audited, so is this way of starting a process
    sys.audit("vigil.spawn", request.filename, request.argv, request.env)
    pid, step, number = _vfork_spawn.spawn(
        request.filename,
        argv,
        env,
        fds,
        request.death_signal,
        _altered_signals(),
        [limit[1:] for limit in settings.limits],
        settings.nice,
        settings.oom_score_adj,
    )
    if step == _STEP_EXEC:
        raise SpawnError(_exec_failure(request.argv[0], number), pid)
    if step >= _STEP_RLIMIT:
        raise SpawnError(settings.limit_failure(step - _STEP_RLIMIT, number), pid)
    if step == _STEP_NICE:
        raise SpawnError(settings.nice_failure(number), pid)
    if step == _STEP_OOM_SCORE_ADJ:
        raise SpawnError(settings.oom_failure(number), pid)
    if step:
        name = errno.errorcode.get(number, str(number))
        raise SpawnError(f"couldn't {_VFORK_STEPS.get(step, 'spawn')}: {name}", pid)
    return pid


def _altered_signals() -> list[int]:
    """Every signal not at its default: caught ones (exec would reset them, but one that
    arrived before exec would reach the daemon's handler) and ignored ones (exec keeps)."""
    return [int(n) for n in CATCHABLE if _signal.getsignal(n) != _signal.SIG_DFL]


def _needs_fork(request: SpawnRequest) -> bool:
    return (
        (request.death_signal is not None and HAS_PARENT_DEATH_SIGNAL)
        or request.directory is not None
        or request.umask is not None
        or (request.uid is not None and request.uid != os.getuid())
    )


def _posix_spawn(request: SpawnRequest, fds: tuple[int, int, int]) -> int:
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
    try:
        return os.posix_spawn(
            request.filename,
            request.argv,
            request.env,
            file_actions=actions,
            setpgroup=0,
            setsigmask=(),
            setsigdef=CATCHABLE,
        )
    except OSError as exc:
        raise SpawnError(_exec_failure(request.argv[0], exc.errno or 0)) from None


def _exec_failure(program: str, number: int) -> str:
    return f"couldn't exec {program}: {errno.errorcode.get(number, str(number))}"


def _fork_exec(
    request: SpawnRequest, fds: tuple[int, int, int], settings: ChildSettings = _NO_SETTINGS
) -> int:
    if request.uid is not None and request.uid != os.getuid() and os.getuid() != 0:
        raise SpawnError(f"couldn't setuid to {request.uid}: Can't drop privilege as nonroot user")
    report_r, report_w = os.pipe2(os.O_CLOEXEC)
    prctl = _prctl() if request.death_signal is not None else None
    parent = os.getpid()
    # _signal's functions take and give plain numbers: signal's wrappers turn every signal
    # of a mask into an enum member, a cost paid at each spawn for nothing
    blocked = _signal.pthread_sigmask(signal.SIG_BLOCK, CATCHABLE)
    try:
        altered = _altered_signals()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            if prctl is not None and request.death_signal is not None:
                _die_with(parent, prctl, request.death_signal)
            _become(request, fds, report_w, altered, settings)
    finally:
        _signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    os.close(report_w)
    try:
        report = _read_all(report_r)
    finally:
        os.close(report_r)
    if report:
        # the child failed before exec and exits 127; its status is reaped like any other
        raise SpawnError(report.decode("utf-8", "replace"), pid)
    return pid


_PRCTL: Callable[..., int] | None = None


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, loaded once in the daemon (never in a child between fork and exec)."""
    global _PRCTL
    if _PRCTL is None and HAS_PARENT_DEATH_SIGNAL:
        # the daemon's own symbols, which include libc's: ctypes.util.find_library would
        # run ldconfig (a process of its own, milliseconds) just to learn libc's file name
        _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
    return _PRCTL


def _die_with(parent: int, prctl: Callable[..., int], number: int) -> None:  # pragma: no cover
    """In the child: get `number` when the daemon dies; if it already died, never exec."""
    prctl(PR_SET_PDEATHSIG, number, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(127)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    return b"".join(chunks)


def _apply_settings(settings: ChildSettings) -> None:  # pragma: no cover - in the child
    """In the child, as the daemon's user still: raise _SettingFailed naming what failed."""
    for index, (_option, number, soft, hard) in enumerate(settings.limits):
        try:
            resource.setrlimit(number, (soft, hard))
        except OSError as exc:
            raise _SettingFailed(settings.limit_failure(index, exc.errno or 0)) from None
        except ValueError as exc:  # how Python reports EPERM and EINVAL of setrlimit
            refused = "not allowed" in str(exc)
            number = errno.EPERM if refused else errno.EINVAL
            raise _SettingFailed(settings.limit_failure(index, number)) from None
    if settings.nice is not None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, settings.nice)
        except OSError as exc:
            raise _SettingFailed(settings.nice_failure(exc.errno or 0)) from None
    if settings.oom_score_adj is not None:
        try:
            fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, str(settings.oom_score_adj).encode())
            finally:
                os.close(fd)
        except OSError as exc:
            raise _SettingFailed(settings.oom_failure(exc.errno or 0)) from None


class _SettingFailed(Exception):
    """A setting of the child could not be made; the message is the spawn error."""


def _become(
    request: SpawnRequest,
    fds: tuple[int, int, int],
    report: int,
    altered: list[int],
    settings: ChildSettings,
) -> None:
    stage = "exec"
    try:
        signal.set_wakeup_fd(-1)
        for number in altered:
            with contextlib.suppress(OSError, ValueError):
                _signal.signal(number, _signal.SIG_DFL)
        os.setpgid(0, 0)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        if settings:
            _apply_settings(settings)
        if request.uid is not None and request.uid != os.getuid():
            stage = f"setuid to {request.uid}"
            entry = pwd.getpwuid(request.uid)
            os.setgroups(os.getgrouplist(entry.pw_name, entry.pw_gid))
            os.setgid(entry.pw_gid)
            os.setuid(request.uid)
        if request.directory is not None:
            stage = f"chdir to {request.directory}"
            os.chdir(request.directory)
        if request.umask is not None:
            os.umask(request.umask)
        stage = f"exec {request.argv[0]}"
        _signal.pthread_sigmask(signal.SIG_SETMASK, ())
        os.execve(request.filename, request.argv, request.env)
    except _SettingFailed as exc:
        os.write(report, str(exc).encode())
    except OSError as exc:
        name = errno.errorcode.get(exc.errno or 0, str(exc))
        os.write(report, f"couldn't {stage}: {name}".encode())
    except BaseException as exc:
        os.write(report, f"couldn't {stage}: {exc}".encode())
    finally:
        os._exit(127)


def close_on_exec_inherited() -> None:
    """Mark every descriptor above 2 close-on-exec, so children inherit none of them.

    Python opens its own descriptors close-on-exec, but the daemon may have been started
    with others open (a shell's, a service manager's); posix_spawn cannot close them in the
    child, so they are marked once, at startup.
    """
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        names = [str(fd) for fd in range(3, 1024)]
    for name in names:
        fd = int(name)
        if fd > 2:
            with contextlib.suppress(OSError):
                os.set_inheritable(fd, False)
