"""Finding the program a command line names, with Supervisor's checks and messages.

The RPC layer runs this before spawning so that a missing or non-executable command is
reported as NO_FILE / NOT_EXECUTABLE at once, as Supervisor does.
"""

from __future__ import annotations

import functools
import os
import shlex
import stat
from collections.abc import Mapping

DEFAULT_PATH = "/bin:/usr/bin:/usr/local/bin"


class CommandError(Exception):
    """The command cannot be run; `missing` tells NO_FILE from NOT_EXECUTABLE."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing


def resolve_command(
    command: str, environment: Mapping[str, str], directory: str | None = None
) -> tuple[str, list[str]]:
    """(filename to exec, argv). `environment` is the child's, whose PATH is searched.

    The search runs at every spawn, as Supervisor's does: a program installed or removed
    since the last one is seen. Only the parsing of the command line is remembered.
    """
    argv = list(_split(command))
    program = argv[0]
    found: os.stat_result | None = None
    filename = program
    if "/" in program:
        if directory and not os.path.isabs(program):
            filename = os.path.join(directory, program)
        found = _stat(filename)
    else:
        search = environment.get("PATH") or DEFAULT_PATH
        for folder in search.split(os.pathsep):
            candidate = os.path.join(folder, program)
            # os.access answers a miss without building an exception (a PATH of ten folders
            # is ten lookups at each spawn); the stat of the one found is what is checked
            if os.access(candidate, os.F_OK) and (found := _stat(candidate)) is not None:
                filename = candidate
                break
    _check(filename, found)
    return filename, argv


@functools.lru_cache(maxsize=256)
def _split(command: str) -> tuple[str, ...]:
    """The command's words, parsed once per command line (shlex costs microseconds for each
    spawn of a program whose command never changes)."""
    try:
        argv = tuple(shlex.split(command))
    except ValueError as exc:
        raise CommandError(f"can't parse command {command!r}: {exc}", missing=False) from None
    if not argv:
        raise CommandError("command is empty", missing=False)
    return argv


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _check(filename: str, found: os.stat_result | None) -> None:
    if found is None:
        raise CommandError(f"can't find command {filename!r}", missing=True)
    if stat.S_ISDIR(found.st_mode):
        raise CommandError(f"command at {filename!r} is a directory", missing=False)
    if not stat.S_IMODE(found.st_mode) & 0o111:
        raise CommandError(f"command at {filename!r} is not executable", missing=False)
    if not os.access(filename, os.X_OK):
        raise CommandError(f"no permission to run command {filename!r}", missing=False)
