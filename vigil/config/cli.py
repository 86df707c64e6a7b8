"""supervisord's command line: Supervisor's options, which override the [supervisord] section.

Parsing is getopt-style, as Supervisor's, so every option a script passes today still works,
including the short forms and the `--opt=value` long forms.
"""

from __future__ import annotations

import dataclasses
import getopt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil.config import datatypes
from vigil.config.model import SupervisordConfig

USAGE = """%(prog)s -- run a set of applications as daemons.

Usage: %(prog)s [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
--profile_options OPTIONS -- run supervisord under profiler and output
                             results based on OPTIONS, which  is a comma-sep'd
                             list of 'cumulative', 'calls', and/or 'callers',
                             e.g. 'cumulative,callers')
--check-config -- check the configuration, report every problem at once, and exit
"""


class UsageError(Exception):
    """A bad command line: shown as `Error: <msg>` plus the help hint, exit status 2."""


@dataclass
class DaemonArgs:
    configfile: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    help: bool = False
    version: bool = False
    check_config: bool = False
    profile_options: str | None = None

    def apply(self, config: SupervisordConfig) -> SupervisordConfig:
        """The [supervisord] section with the command line's values on top."""
        return dataclasses.replace(config, **self.overrides)


def _flag(_: str) -> bool:
    return True


# (short, long, field, converter)
OPTIONS: tuple[tuple[str, str, str, Callable[[str], Any]], ...] = (
    ("n", "nodaemon", "nodaemon", _flag),
    ("s", "silent", "silent", _flag),
    ("k", "nocleanup", "nocleanup", _flag),
    ("t", "strip_ansi", "strip_ansi", _flag),
    ("u:", "user=", "user", str),
    ("m:", "umask=", "umask", datatypes.octal),
    ("d:", "directory=", "directory", datatypes.existing_directory),
    ("l:", "logfile=", "logfile", datatypes.existing_dirpath),
    ("y:", "logfile_maxbytes=", "logfile_maxbytes", datatypes.byte_size),
    ("z:", "logfile_backups=", "logfile_backups", datatypes.integer),
    ("e:", "loglevel=", "loglevel", datatypes.logging_level),
    ("j:", "pidfile=", "pidfile", datatypes.existing_dirpath),
    ("i:", "identifier=", "identifier", str),
    ("q:", "childlogdir=", "childlogdir", datatypes.existing_directory),
    ("a:", "minfds=", "minfds", datatypes.integer),
    ("", "minprocs=", "minprocs", datatypes.integer),
)
PATHS = frozenset({"logfile", "pidfile"})


def parse_daemon_args(argv: Sequence[str]) -> DaemonArgs:
    shorts = "c:h?v" + "".join(short for short, *_ in OPTIONS)
    longs = ["configuration=", "help", "version", "profile_options=", "check-config"]
    longs += [long for _, long, *_ in OPTIONS]
    try:
        pairs, rest = getopt.getopt(list(argv), shorts, longs)
    except getopt.GetoptError as exc:
        raise UsageError(str(exc)) from None
    if rest:
        raise UsageError(f"positional arguments are not supported: {rest}")
    args = DaemonArgs()
    by_name = {f"-{s.rstrip(':')}": (f, c) for s, _, f, c in OPTIONS if s}
    by_name.update({f"--{lng.rstrip('=')}": (f, c) for _, lng, f, c in OPTIONS})
    for option, value in pairs:
        if option in ("-c", "--configuration"):
            args.configfile = value
        elif option in ("-h", "-?", "--help"):
            args.help = True
        elif option in ("-v", "--version"):
            args.version = True
        elif option == "--check-config":
            args.check_config = True
        elif option == "--profile_options":
            args.profile_options = value
        else:
            name, convert = by_name[option]
            _set(args, option, name, convert, value)
    return args


def _set(args: DaemonArgs, option: str, name: str, convert: Callable[[str], Any], raw: str) -> None:
    try:
        value = convert(raw)
    except ValueError as exc:
        raise UsageError(f"invalid value for {option} {raw!r}: {exc}") from None
    if name in args.overrides:
        raise UsageError(f"conflicting command line option {option!r}")
    if name in PATHS:
        value = datatypes.normalize_path(value)
    args.overrides[name] = value
