"""The configuration layer: Supervisor-compatible INI files to the typed model.

`load` reads a supervisord file with its includes, `load_ctl` what supervisorctl reads,
`check` lists every problem of a file and `find_config` finds the file when no ``-c`` is
given; `vigil.config.diff.diff` compares two loaded configurations (a function named like
its module cannot be exported lazily: the module would shadow it).

Names are imported on first use (PEP 562): importing any `vigil.config.x` module runs this
file, and supervisorctl must not pay for the daemon's loader to read its one section.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigil.config.ctlfile import load_ctl
    from vigil.config.diff import ConfigDiff
    from vigil.config.errors import ConfigError, Problem, Severity
    from vigil.config.loader import check, load
    from vigil.config.search import candidates, find_config, not_found_message

_HOMES = {
    "ConfigDiff": "diff",
    "ConfigError": "errors",
    "Problem": "errors",
    "Severity": "errors",
    "check": "loader",
    "load": "loader",
    "load_ctl": "ctlfile",
    "candidates": "search",
    "find_config": "search",
    "not_found_message": "search",
}

__all__ = [
    "ConfigDiff",
    "ConfigError",
    "Problem",
    "Severity",
    "candidates",
    "check",
    "find_config",
    "load",
    "load_ctl",
    "not_found_message",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'vigil.config' has no attribute {name!r}")
    return getattr(importlib.import_module(f"vigil.config.{home}"), name)
