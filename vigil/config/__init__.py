"""The configuration layer: Supervisor-compatible INI files to the typed model."""

from vigil.config.errors import ConfigError, Problem, Severity
from vigil.config.loader import check, load, load_ctl

__all__ = ["ConfigError", "Problem", "Severity", "check", "load", "load_ctl"]
