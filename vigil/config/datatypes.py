"""Converters from option text to typed values, with Supervisor's acceptance rules and messages.

Each converter takes the text of one option (after ``%(...)s`` expansion) and returns the
typed value or raises `ConversionError`, a ValueError whose text is the message Supervisor
4.3's ``datatypes.py`` gives for the same input. Nothing else escapes a converter.
"""

from __future__ import annotations

import contextlib
import grp
import math
import os
import pwd
import shlex
import signal
import stat
from collections.abc import Callable
from enum import Enum
from typing import TypeVar
from urllib.parse import urlparse

from vigil.config.values import (
    AUTO,
    Auto,
    AutoRestart,
    Backoff,
    KillMode,
    LogFormat,
    LogLevel,
    ProgramType,
    UpdateStrategy,
)

T = TypeVar("T")
E = TypeVar("E", bound=Enum)


class ConversionError(ValueError):
    """A value the option does not accept; the text is Supervisor's message."""


class Syslog(Enum):
    """The deprecated ``syslog`` child logfile name (the loader turns it into ``*_syslog``)."""

    SYSLOG = "syslog"


SYSLOG = Syslog.SYSLOG

TRUTHY_STRINGS = ("yes", "true", "on", "1")
FALSY_STRINGS = ("no", "false", "off", "0")
LOGFILE_NONES = ("none", "off")

LOG_LEVELS_BY_DESCRIPTION: dict[str, LogLevel] = {
    "critical": LogLevel.CRIT,
    "error": LogLevel.ERRO,
    "warn": LogLevel.WARN,
    "info": LogLevel.INFO,
    "debug": LogLevel.DEBG,
    "trace": LogLevel.TRAC,
    "blather": LogLevel.BLAT,
}

# Every value Supervisor accepts as a signal number: getattr(signal, k) for each SIG* name,
# which includes the SIG_DFL/SIG_IGN/SIG_BLOCK... constants (so 0, 1 and 2 pass).
SIGNUMS = frozenset(int(getattr(signal, k)) for k in dir(signal) if k.startswith("SIG"))


def _int(text: str) -> int:
    """Python's int() as Supervisor uses it, with its message on failure."""
    try:
        return int(text)
    except (ValueError, OverflowError) as exc:
        raise ConversionError(str(exc)) from None


def integer(value: str) -> int:
    return _int(value)


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in TRUTHY_STRINGS:
        return True
    if lowered in FALSY_STRINGS:
        return False
    raise ConversionError("not a valid boolean value: " + repr(value))


def byte_size(value: str) -> int:
    """``N``, ``NKB``, ``NMB``, ``NGB`` (case-insensitive, powers of 1024)."""
    lowered = value.lower()
    for suffix, multiplier in (("kb", 1024), ("mb", 1024**2), ("gb", 1024**3)):
        if lowered[-2:] == suffix:
            return _int(lowered[:-2]) * multiplier
    return _int(lowered)


def octal(value: str) -> int:
    try:
        return int(value, 8)
    except (TypeError, ValueError):
        raise ConversionError(f"{value} can not be converted to an octal type") from None


def signal_number(value: str) -> int:
    """A signal name (with or without ``SIG``, any case) or number."""
    try:
        number = int(value)
    except (ValueError, OverflowError):
        name = value.strip().upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        found = getattr(signal, name, None)
        if not isinstance(found, int):
            raise ConversionError(f"value {value!r} is not a valid signal name") from None
        number = int(found)
    if number not in SIGNUMS:
        raise ConversionError(f"value {value!r} is not a valid signal number")
    return number


def list_of_strings(value: str) -> list[str]:
    if not value:
        return []
    return [item.strip() for item in value.split(",")]


def list_of_exitcodes(value: str) -> tuple[int, ...]:
    """Comma-separated exit codes, each 0..255; empty text is an empty list."""
    if not value:
        return ()
    try:
        codes = tuple(int(item) for item in value.split(","))
    except (ValueError, OverflowError):
        codes = None
    if codes is None or any(code < 0 or code > 255 for code in codes):
        raise ConversionError("not a valid list of exit codes: " + repr(value))
    return codes


def dict_of_key_value_pairs(value: str) -> dict[str, str]:
    """``KEY=val,KEY2="val 2"`` with Supervisor's non-POSIX shlex rules.

    Tokens are read in threes (key, ``=``, value) and the token after each triple is skipped
    whatever it is (normally the comma). Quotes around a value are stripped.
    """
    lexer = shlex.shlex(value)
    lexer.wordchars += "/.+-():"
    try:
        tokens = list(lexer)
    except ValueError as exc:  # "No closing quotation"
        raise ConversionError(str(exc)) from None
    pairs: dict[str, str] = {}
    for start in range(0, len(tokens), 4):
        triple = tokens[start : start + 3]
        if len(triple) != 3 or triple[1] != "=":
            raise ConversionError(f"Unexpected end of key/value pairs in value '{value}'")
        pairs[triple[0]] = triple[2].strip("'\"")
    return pairs


def process_or_group_name(value: str) -> str:
    """A name usable in namespecs, the listener protocol and URLs: no space, ``:`` or ``/``."""
    name = value.strip()
    for character in " :/":
        if character in name:
            raise ConversionError(f"Invalid name: {value!r} because of character: {character!r}")
    return name


def existing_directory(value: str) -> str:
    expanded = os.path.expanduser(value)
    if _isdir(expanded):
        return expanded
    raise ConversionError(f"{value} is not an existing directory")


def existing_dirpath(value: str) -> str:
    """A path whose directory exists (a bare file name is relative to the daemon's cwd)."""
    expanded = os.path.expanduser(value)
    directory = os.path.dirname(expanded)
    if not directory or _isdir(directory):
        return expanded
    raise ConversionError(f"The directory named as part of the path {value} does not exist")


def readable_file(value: str) -> str:
    """A file the daemon can read now (a certificate, a key)."""
    expanded = os.path.expanduser(value.strip())
    if not os.path.isfile(expanded):
        raise ConversionError(f"{value} is not an existing file")
    if not os.access(expanded, os.R_OK):
        raise ConversionError(f"{value} is not readable")
    return expanded


def _isdir(path: str) -> bool:
    try:
        return os.path.isdir(path)
    except (OSError, ValueError):
        return False


def logfile_name(value: str) -> str | Auto | Syslog | None:
    """``NONE``/``OFF`` (no file), ``AUTO``, ``syslog`` (deprecated) or a path."""
    lowered = value.lower()
    if lowered in LOGFILE_NONES:
        return None
    if lowered == "auto":
        return AUTO
    if lowered == "syslog":
        return SYSLOG
    return existing_dirpath(value)


def logging_level(value: str) -> LogLevel:
    level = LOG_LEVELS_BY_DESCRIPTION.get(value.lower())
    if level is None:
        raise ConversionError(f"bad logging level name {value!r}")
    return level


def port_number(value: str) -> int:
    port = _int(value)
    if port < 1:
        raise ConversionError(f"{port!r} is below lower bound (1)")
    if port > 0xFFFF:
        raise ConversionError(f"{port!r} is above upper bound ({0xFFFF!r})")
    return port


def inet_address(value: str) -> tuple[str, int]:
    """``host:port``, ``:port``, ``*:port`` or ``port``; an empty host means every interface."""
    host = ""
    if ":" in value:
        host, port_text = value.rsplit(":", 1)
        if not port_text:
            raise ConversionError(f"no port number specified in {port_text!r}")
        port = port_number(port_text)
        host = host.lower()
    else:
        try:
            port = port_number(value)
        except ConversionError:
            raise ConversionError(f"not a valid port number: {value!r} ") from None
    if host == "*":
        host = ""
    return host, port


def url(value: str) -> str:
    try:
        parsed = urlparse(value)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.scheme and (parsed.netloc or parsed.path):
        return value
    raise ConversionError(f"value {value!r} is not a URL")


def auto_restart(value: str) -> AutoRestart:
    lowered = value.lower()
    if lowered in TRUTHY_STRINGS:
        return AutoRestart.ALWAYS
    if lowered in FALSY_STRINGS:
        return AutoRestart.NEVER
    if lowered == "unexpected":
        return AutoRestart.UNEXPECTED
    raise ConversionError(f"invalid 'autorestart' value {lowered!r}")


def kill_mode(value: str) -> KillMode:
    try:
        return KillMode(value.strip().lower())
    except ValueError:
        choices = ", ".join(mode.value for mode in KillMode)
        raise ConversionError(f"invalid 'killmode' value {value!r} (one of {choices})") from None


def _choice(kind: type[E], option: str, value: str) -> E:
    try:
        return kind(value.strip().lower())
    except ValueError:
        choices = ", ".join(str(item.value) for item in kind)
        raise ConversionError(f"invalid {option!r} value {value!r} (one of {choices})") from None


def backoff(value: str) -> Backoff:
    return _choice(Backoff, "backoff", value)


def update_strategy(value: str) -> UpdateStrategy:
    return _choice(UpdateStrategy, "update_strategy", value)


def log_format(value: str) -> LogFormat:
    return _choice(LogFormat, "logformat", value)


def program_type(value: str) -> ProgramType:
    return _choice(ProgramType, "type", value)


def seconds(value: str) -> float:
    """A duration: a number of seconds, not negative (fractions allowed)."""
    try:
        number = float(value.strip())
    except ValueError:
        raise ConversionError(f"not a number of seconds: {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ConversionError(f"not a number of seconds (0 or more): {value!r}")
    return number


def fraction(value: str) -> float:
    """A fraction from 0 to 1, e.g. 0.25."""
    try:
        number = float(value.strip())
    except ValueError:
        number = math.nan
    if not 0 <= number <= 1:
        raise ConversionError(f"not a fraction from 0 to 1: {value!r}")
    return number


def start_limit(value: str) -> tuple[int, float]:
    """``N/SECONDS``: at most N starts within SECONDS (N at least 1, SECONDS above 0)."""
    count, slash, window = value.partition("/")
    try:
        pair = (int(count.strip()), float(window.strip()))
    except ValueError:
        pair = (0, 0.0)
    if not slash or pair[0] < 1 or not 0 < pair[1] < math.inf:
        raise ConversionError(
            f"invalid 'start_limit' value {value!r} (N/SECONDS, e.g. 5/60: more than 5 "
            "starts within 60 seconds is FATAL)"
        )
    return pair


def name_to_uid(value: str) -> int:
    """A user name or numeric uid that exists in the password database."""
    try:
        uid = int(value)
    except (ValueError, OverflowError):
        try:
            return pwd.getpwnam(value).pw_uid
        except (KeyError, ValueError):
            raise ConversionError(f"Invalid user name {value}") from None
    try:
        pwd.getpwuid(uid)
    except (KeyError, ValueError, OverflowError):
        raise ConversionError(f"Invalid user id {value}") from None
    return uid


def name_to_gid(value: str) -> int:
    try:
        gid = int(value)
    except (ValueError, OverflowError):
        try:
            return grp.getgrnam(value).gr_gid
        except (KeyError, ValueError):
            raise ConversionError(f"Invalid group name {value}") from None
    try:
        grp.getgrgid(gid)
    except (KeyError, ValueError, OverflowError):
        raise ConversionError(f"Invalid group id {value}") from None
    return gid


def gid_for_uid(uid: int) -> int:
    try:
        return pwd.getpwuid(uid).pw_gid
    except (KeyError, ValueError, OverflowError):
        raise ConversionError(f"Invalid user id {uid}") from None


def colon_separated_user_group(value: str) -> tuple[int, int]:
    """``user`` or ``user:group`` (names or ids) as (uid, gid); gid -1 when not given."""
    user, sep, group = value.partition(":")
    try:
        uid = name_to_uid(user)
        gid = name_to_gid(group) if sep else -1
    except ConversionError:
        raise ConversionError(f"Invalid user:group definition {value}") from None
    return uid, gid


def normalize_path(value: str) -> str:
    """Absolute, normalized, ``~`` expanded: how Supervisor stores pidfile, logfile, sockets."""
    return os.path.normpath(os.path.abspath(os.path.expanduser(value)))


# Paths that name the daemon's own standard streams or terminals: writable, but not seekable,
# so a rotating log on them fails at its first size check ("Illegal seek" in Supervisor).
_STREAM_PATHS = frozenset({"/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty", "/dev/console"})
_STREAM_PREFIXES = ("/dev/fd/", "/proc/self/fd/", "/dev/pts/", "/dev/tty")


def is_stream_path(path: str) -> bool:
    """Whether a log path is a pipe, socket, terminal or standard stream (not seekable)."""
    candidates = {os.path.normpath(os.path.abspath(path))}
    with contextlib.suppress(OSError, ValueError):
        candidates.add(os.path.realpath(path))
    for candidate in candidates:
        if candidate in _STREAM_PATHS or candidate.startswith(_STREAM_PREFIXES):
            return True
        if candidate.startswith("/proc/") and "/fd/" in candidate:
            return True
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def convert(converter: Callable[[str], T], value: str) -> T:
    """Run a converter; any failure other than its own becomes a ConversionError too."""
    try:
        return converter(value)
    except ConversionError:
        raise
    except Exception as exc:  # a converter's unforeseen failure must still name the value
        raise ConversionError(str(exc) or type(exc).__name__) from None
