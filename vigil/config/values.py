"""The enumerated values options take (log levels, autorestart, killmode, AUTO).

Apart from the model's dataclasses so that what only converts or compares option values
(supervisorctl reading its section, the value converters) does not build them.
"""

from __future__ import annotations

from enum import Enum, IntEnum


class LogLevel(IntEnum):
    """Supervisor's main-log levels; the names are what the log line shows."""

    CRIT = 50
    ERRO = 40
    WARN = 30
    INFO = 20
    DEBG = 10
    TRAC = 5
    BLAT = 3


class AutoRestart(Enum):
    NEVER = "false"
    UNEXPECTED = "unexpected"
    ALWAYS = "true"


class KillMode(Enum):
    """What a stop signals (opt-in ``killmode``; without it stopasgroup/killasgroup decide)."""

    PROCESS = "process"  # the program's own process only
    GROUP = "group"  # its process group (stopasgroup and killasgroup)
    TREE = "tree"  # every descendant, even those that left the group or were re-parented


class Auto(Enum):
    """The ``AUTO`` value of a child logfile or serverurl: vigil chooses the concrete value."""

    AUTO = "auto"


AUTO = Auto.AUTO

# A child logfile: a path, AUTO (a file in childlogdir), or None (NONE/OFF).
Logfile = str | Auto | None


class Backoff(Enum):
    """How the wait before a retry grows (opt-in ``backoff``; linear is Supervisor's)."""

    LINEAR = "linear"  # first, 2 x first, 3 x first, ...
    EXPONENTIAL = "exponential"  # first, 2 x first, 4 x first, ...
    FIXED = "fixed"  # first, first, first, ...


class UpdateStrategy(Enum):
    """How ``update`` replaces a changed program's processes (opt-in ``update_strategy``)."""

    RESTART = "restart"  # Supervisor's: stop the whole group, then start it again
    ROLLING = "rolling"  # one process at a time, the next once the previous one is back


class LogFormat(Enum):
    """How the main log writes each entry (opt-in ``logformat``; text is Supervisor's)."""

    TEXT = "text"  # ``2024-01-01 12:00:00,000 INFO message``
    JSON = "json"  # one JSON object per line, for log shippers


class ProgramType(Enum):
    """What a program is for (opt-in ``type``): a service that stays up, or a task that ends."""

    SIMPLE = "simple"
    ONESHOT = "oneshot"


class ProbeKind(Enum):
    """How readiness or health is checked (opt-in ``ready`` and ``healthcheck``)."""

    STARTSECS = "startsecs"  # Supervisor's: up for startsecs is ready
    NOTIFY = "notify"  # the program says READY=1 on its NOTIFY_SOCKET (sd_notify)
    TCP = "tcp"  # a connect to HOST:PORT completes
    HTTP = "http"  # a GET answers 2xx or 3xx
    EXEC = "exec"  # a command exits 0
    LOG = "log"  # a line of the program's output matches a regular expression


class HealthAction(Enum):
    """What an unhealthy process gets (opt-in ``healthcheck_action``)."""

    RESTART = "restart"
    STOP = "stop"
    NONE = "none"
