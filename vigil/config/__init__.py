"""The configuration layer: Supervisor-compatible INI files to the typed model.

`load` reads a supervisord file with its includes, `load_ctl` what supervisorctl reads,
`check` lists every problem of a file; `diff` compares two loaded configurations and
`find_config` finds the file when no ``-c`` is given.
"""

from vigil.config.diff import ConfigDiff, diff
from vigil.config.errors import ConfigError, Problem, Severity
from vigil.config.loader import check, load, load_ctl
from vigil.config.search import candidates, find_config, not_found_message

__all__ = [
    "ConfigDiff",
    "ConfigError",
    "Problem",
    "Severity",
    "candidates",
    "check",
    "diff",
    "find_config",
    "load",
    "load_ctl",
    "not_found_message",
]
