"""Where supervisord and supervisorctl look for a configuration file when ``-c`` is absent.

Supervisor's order (``Options.__init__``): next to the installation (``../etc`` and ``..``
relative to the directory of the executable), the working directory, then ``/etc``.
The first file that exists wins.
"""

from __future__ import annotations

import os

CONFIG_NAME = "supervisord.conf"


def candidates(argv0: str) -> list[str]:
    """The paths searched, in order, for a program started as ``argv0``."""
    prefix = os.path.dirname(os.path.dirname(argv0))
    return [
        os.path.join(prefix, "etc", CONFIG_NAME),
        os.path.join(prefix, CONFIG_NAME),
        CONFIG_NAME,
        os.path.join("etc", CONFIG_NAME),
        os.path.join("/etc", CONFIG_NAME),
        os.path.join("/etc", "supervisor", CONFIG_NAME),
    ]


def find_config(argv0: str) -> str | None:
    """The first existing candidate, or None."""
    for path in candidates(argv0):
        if os.path.exists(path):
            return path
    return None


def not_found_message(argv0: str) -> str:
    """supervisord's usage error when no candidate exists."""
    return (
        f"No config file found at default paths ({', '.join(candidates(argv0))}); use the "
        "-c option to specify a config file at a different path"
    )
