"""What supervisorctl reads from a configuration file: ``[supervisorctl]`` and plugin sections.

Apart from the daemon's model (model.py) so that supervisorctl, which runs for every command
a user types, builds only these two small records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CtlConfig:
    serverurl: str = "http://localhost:9001"
    username: str | None = None
    password: str | None = None
    prompt: str = "supervisor"
    history_file: str | None = None
    # vigil addition: whether ``status`` colours process states: "auto" (only on a terminal,
    # unless NO_COLOR is set or TERM is dumb), "always" or "never". "never" by default, so
    # that scripts reading supervisorctl through a terminal (expect, pexpect) see exactly
    # Supervisor's text.
    color: str = "never"
    # vigil addition: the CA certificates (PEM) an https:// serverurl is checked against;
    # without it, the system's (and SSL_CERT_FILE's)
    cafile: str | None = None


@dataclass(frozen=True)
class PluginConfig:
    """An [rpcinterface:x] or [ctlplugin:x] section: a factory spec and its string kwargs."""

    name: str
    factory: str
    kwargs: tuple[tuple[str, str], ...] = ()
