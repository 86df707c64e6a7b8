"""The options of containers and hosts (issue 17) and of log timestamps (issue 16): how each
is read, and the environment a program's ``user`` and ``env_file`` give it.

All are opt-in: without them a program runs as Supervisor runs it.
"""

from __future__ import annotations

import pwd
import resource
from collections.abc import Callable, Mapping
from typing import Any

from vigil.config import datatypes as dt
from vigil.config.datatypes import ConversionError
from vigil.config.model import RLIMIT_OPTIONS, Rlimit

UNLIMITED = resource.RLIM_INFINITY
# what each rlimit_* option sets, and whether its value is a size (KB, MB, GB allowed)
RLIMIT_RESOURCES: dict[str, tuple[int, bool]] = {
    "rlimit_nofile": (resource.RLIMIT_NOFILE, False),
    "rlimit_nproc": (resource.RLIMIT_NPROC, False),
    "rlimit_core": (resource.RLIMIT_CORE, True),
    "rlimit_memlock": (resource.RLIMIT_MEMLOCK, True),
    "rlimit_as": (resource.RLIMIT_AS, True),
    "rlimit_cpu": (resource.RLIMIT_CPU, False),
    "rlimit_fsize": (resource.RLIMIT_FSIZE, True),
}
assert set(RLIMIT_RESOURCES) == set(RLIMIT_OPTIONS)
# set from the password database for a program with `user`, unless its environment sets them
USER_VARIABLES = ("HOME", "USER", "LOGNAME", "SHELL")


def _limit_value(text: str, option: str, sized: bool) -> int:
    text = text.strip()
    if text.lower() in ("unlimited", "infinity"):
        return UNLIMITED
    try:
        number = dt.byte_size(text) if sized else int(text)
    except (ConversionError, ValueError):
        number = -1
    if number < 0:
        unit = "a size (N, NKB, NMB, NGB)" if sized else "a whole number"
        raise ConversionError(f"invalid {option!r} value {text!r} ({unit} or 'unlimited')")
    return number


def rlimit(option: str) -> Callable[[str], Rlimit]:
    """The converter of one rlimit_* option: ``N``, ``unlimited``, or ``SOFT:HARD``."""
    sized = RLIMIT_RESOURCES[option][1]

    def convert(value: str) -> Rlimit:
        soft_text, colon, hard_text = value.partition(":")
        soft = _limit_value(soft_text, option, sized)
        hard = _limit_value(hard_text, option, sized) if colon else soft
        if hard != UNLIMITED and (soft == UNLIMITED or soft > hard):
            raise ConversionError(
                f"invalid {option!r} value {value!r}: the soft limit is above the hard limit"
            )
        return soft, hard

    return convert


def _bounded(option: str, low: int, high: int) -> Callable[[str], int]:
    def convert(value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise ConversionError(f"invalid {option!r} value {value!r} (from {low} to {high})")
        return number

    return convert


def _optional_boolean(value: str) -> bool | None:
    return dt.boolean(value)


HOST_OPTIONS: tuple[tuple[str, Callable[[str], Any]], ...] = (
    ("essential", dt.boolean),
    ("forward_output", _optional_boolean),
    ("forward_output_timestamps", dt.boolean),
    ("stdout_logfile_timestamps", dt.boolean),
    ("stderr_logfile_timestamps", dt.boolean),
    ("nice", _bounded("nice", -20, 19)),
    ("oom_score_adjust", _bounded("oom_score_adjust", -1000, 1000)),
    *((option, rlimit(option)) for option in RLIMIT_OPTIONS),
)


def user_environment(uid: int | None) -> dict[str, str]:
    """HOME, USER, LOGNAME and SHELL of the user a program runs as (Supervisor #1171)."""
    if uid is None:
        return {}
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return {}
    return {
        "HOME": entry.pw_dir,
        "USER": entry.pw_name,
        "LOGNAME": entry.pw_name,
        "SHELL": entry.pw_shell or "/bin/sh",
    }


def merged_environment(
    base: Mapping[str, str], env_files: Mapping[str, str], own: Mapping[str, str]
) -> dict[str, str]:
    """A program's environment: ``[supervisord]``'s (its env_file, then its environment),
    then the program's env_file, then its environment; each later one wins. (The variables
    of its `user` come before all of these: the spawn sets those the result does not.)"""
    merged = dict(base)
    merged.update(env_files)
    merged.update(own)
    return merged
