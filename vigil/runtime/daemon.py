"""The daemon's own process: detaching, pidfile, resource limits, dropping privileges.

Errors are returned as messages (or raised as DaemonSetupError) for the caller to print, so
a refusal to start is one clear line, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import resource


class DaemonSetupError(Exception):
    pass


def ensure_standard_fds() -> None:
    """Open /dev/null on any of fds 0-2 that is closed, so no pipe can land there."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def daemonize(directory: str | None, umask: int) -> None:
    """Detach as Supervisor does: fork once, the parent exits, the child leads a new session."""
    if os.fork():
        os._exit(0)
    if directory:
        try:
            os.chdir(directory)
        except OSError as exc:
            raise DaemonSetupError(f"can't chdir into {directory!r}: {exc}") from None
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.setsid()
    os.umask(umask)


def write_pidfile(path: str) -> str | None:
    """Write our pid; a message on failure (Supervisor logs it and keeps running)."""
    try:
        with open(path, "w") as handle:
            handle.write(f"{os.getpid()}\n")
    except OSError as exc:
        return f"could not write pidfile {path}: {exc}"
    return None


def remove_pidfile(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def pidfile_owner(path: str) -> int | None:
    """The live process a pidfile names, if any (another daemon already running)."""
    try:
        with open(path) as handle:
            pid = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def raise_limits(minfds: int, minprocs: int) -> None:
    """Raise RLIMIT_NOFILE / RLIMIT_NPROC soft (and, as root, hard) limits to the minimums."""
    for name, which, wanted in (
        ("minfds", resource.RLIMIT_NOFILE, minfds),
        ("minprocs", resource.RLIMIT_NPROC, minprocs),
    ):
        soft, hard = resource.getrlimit(which)
        if soft == resource.RLIM_INFINITY or soft >= wanted:
            continue
        if hard != resource.RLIM_INFINITY and hard < wanted and os.geteuid() != 0:
            raise DaemonSetupError(
                f"The minimum number of {'file descriptors' if name == 'minfds' else 'processes'}"
                f' required to run this process is {wanted} as per the "{name}" command-line '
                f"argument or config file setting. The current environment will only allow you "
                f"to open {hard}. Either raise the number in your environment (see README.rst) "
                f"or lower the {name} setting in the config file to allow the process to start."
            )
        new_hard = hard if hard == resource.RLIM_INFINITY or hard >= wanted else wanted
        try:
            resource.setrlimit(which, (wanted, new_hard))
        except (ValueError, OSError) as exc:
            raise DaemonSetupError(f"could not raise {name} to {wanted}: {exc}") from None


def drop_privileges(user: str) -> None:
    """Become `user` (name or uid) with its groups; only root may switch to another user."""
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except (KeyError, ValueError):
        raise DaemonSetupError(f"Invalid user name {user}") from None
    if entry.pw_uid == os.getuid():
        return
    if os.getuid() != 0:
        raise DaemonSetupError("Can't drop privilege as nonroot user")
    try:
        os.setgroups(os.getgrouplist(entry.pw_name, entry.pw_gid))
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    except OSError as exc:
        raise DaemonSetupError(f"Could not set user id to {user}: {exc}") from None
