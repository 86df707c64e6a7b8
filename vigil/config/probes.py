"""Readiness and health probes as values: ``ready`` and ``healthcheck`` read into `Probe`.

The config layer only checks that a probe is well formed (a port in range, a regular
expression that compiles, a command that is not empty); running it is the runtime's. The
spellings follow what users know: URLs for sockets and HTTP, ``exec:`` for a command
(Docker's HEALTHCHECK CMD), ``notify`` for systemd's sd_notify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from vigil.config.datatypes import ConversionError, port_number
from vigil.config.values import HealthAction, ProbeKind

HTTP_DEFAULT_PORT = 80


@dataclass(frozen=True)
class Probe:
    """One check: what it connects to, runs or looks for. `text` is the value as written."""

    kind: ProbeKind
    text: str
    host: str = ""
    port: int = 0
    path: str = "/"  # HTTP: the path and query asked for
    command: str = ""  # EXEC: run as the program's command is (user, environment, directory)
    pattern: str = ""  # LOG: a regular expression searched in each line of output

    def __str__(self) -> str:
        return self.text


READY_USAGE = (
    "one of startsecs, notify, tcp://HOST:PORT, http://HOST:PORT/PATH, exec:COMMAND, log:REGEX"
)
HEALTH_USAGE = "one of tcp://HOST:PORT, http://HOST:PORT/PATH, exec:COMMAND"


def ready_probe(value: str) -> Probe | None:
    """``ready``: None for ``startsecs`` (Supervisor's rule), else the probe."""
    text = value.strip()
    lowered = text.lower()
    if lowered == ProbeKind.STARTSECS.value:
        return None
    if lowered == ProbeKind.NOTIFY.value:
        return Probe(ProbeKind.NOTIFY, text)
    if lowered.startswith("log:"):
        return _log_probe(text)
    probe = _network_or_exec(text)
    if probe is None:
        raise ConversionError(f"invalid 'ready' value {value!r} ({READY_USAGE})")
    return probe


def health_probe(value: str) -> Probe:
    """``healthcheck``: a socket, HTTP or command probe."""
    probe = _network_or_exec(value.strip())
    if probe is None:
        raise ConversionError(f"invalid 'healthcheck' value {value!r} ({HEALTH_USAGE})")
    return probe


def health_action(value: str) -> HealthAction:
    try:
        return HealthAction(value.strip().lower())
    except ValueError:
        choices = ", ".join(action.value for action in HealthAction)
        raise ConversionError(
            f"invalid 'healthcheck_action' value {value!r} (one of {choices})"
        ) from None


def positive_seconds(value: str) -> float:
    """A duration above 0 (an interval or a timeout of 0 would mean never or always)."""
    try:
        number = float(value.strip())
    except ValueError:
        number = 0.0
    if not 0 < number < float("inf"):
        raise ConversionError(f"not a number of seconds above 0: {value!r}")
    return number


def positive_integer(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = 0
    if number < 1:
        raise ConversionError(f"not a whole number of 1 or more: {value!r}")
    return number


def _network_or_exec(text: str) -> Probe | None:
    lowered = text.lower()
    if lowered.startswith("exec:"):
        command = text[len("exec:") :].strip()
        if not command:
            raise ConversionError(f"{text!r} names no command after exec:")
        return Probe(ProbeKind.EXEC, text, command=command)
    if lowered.startswith("tcp://"):
        host, port, _ = _address(text, require_port=True)
        return Probe(ProbeKind.TCP, text, host=host, port=port)
    if lowered.startswith("http://"):
        host, port, path = _address(text, require_port=False)
        return Probe(ProbeKind.HTTP, text, host=host, port=port, path=path)
    if lowered.startswith("https://"):
        raise ConversionError(f"{text!r}: https probes are not supported (use http:// or exec:)")
    return None


def _address(text: str, *, require_port: bool) -> tuple[str, int, str]:
    try:
        parts = urlsplit(text)
        port_text = parts.netloc.rpartition(":")[2] if parts.port is not None else ""
    except ValueError as exc:
        raise ConversionError(f"{text!r} is not a valid address: {exc}") from None
    host = parts.hostname or ""
    if not host:
        raise ConversionError(f"{text!r} names no host")
    if not port_text:
        if require_port:
            raise ConversionError(f"{text!r} names no port (tcp://HOST:PORT)")
        port = HTTP_DEFAULT_PORT
    else:
        port = port_number(port_text)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return host, port, path


def _log_probe(text: str) -> Probe:
    pattern = text[len("log:") :]
    if not pattern:
        raise ConversionError(f"{text!r} has no regular expression after log:")
    try:
        re.compile(pattern.encode())
    except re.error as exc:
        raise ConversionError(f"{text!r} is not a valid regular expression: {exc}") from None
    return Probe(ProbeKind.LOG, text, pattern=pattern)
