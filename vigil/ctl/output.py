"""Lines supervisorctl prints for process information and per-process results."""

from __future__ import annotations

from vigil.ctl.names import make_namespec
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    ProcessInfo = Mapping[str, object]

_NAMESPEC_MIN_WIDTH = 30
_STATE_WIDTH = 10

_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_RESET = "\x1b[0m"
STATE_COLOURS = {
    "RUNNING": _GREEN,
    "STARTING": _YELLOW,
    "BACKOFF": _YELLOW,
    "STOPPING": _YELLOW,
    "EXITED": _YELLOW,
    "FATAL": _RED,
    "UNKNOWN": _RED,
}


def info_namespec(info: ProcessInfo) -> str:
    return make_namespec(str(info["group"]), str(info["name"]))


def status_lines(infos: Sequence[ProcessInfo], *, colour: bool = False) -> list[str]:
    """One line per process: name column (at least 30 wide, 3 spaces after the longest name),
    a 10-wide state column, then the description. With ``colour`` the state is coloured;
    padding stays outside the colour codes so columns still line up."""
    namespecs = [info_namespec(info) for info in infos]
    width = max([_NAMESPEC_MIN_WIDTH, *map(len, namespecs)]) + 3
    lines = []
    for namespec, info in zip(namespecs, infos, strict=True):
        state = str(info["statename"])
        padded = state.ljust(_STATE_WIDTH)
        code = STATE_COLOURS.get(state) if colour else None
        if code is not None:
            padded = code + state + _RESET + padded[len(state) :]
        lines.append(namespec.ljust(width) + padded + str(info["description"]))
    return lines


def avail_line(info: ProcessInfo) -> str:
    """One line of ``avail``: name, in use or not, auto or manual start, priorities."""
    name = make_namespec(str(info["group"]), str(info["name"]))
    inuse = "in use" if info["inuse"] else "avail"
    autostart = "auto" if info["autostart"] else "manual"
    priority = f"{info['group_prio']}:{info['process_prio']}"
    return f"{name:<32} {inuse:<9} {autostart:<9} {priority}"


_START_ERRORS: dict[int, str] = {
    Faults.BAD_NAME: "no such process",
    Faults.NO_FILE: "no such file",
    Faults.NOT_EXECUTABLE: "file is not executable",
    Faults.ALREADY_STARTED: "already started",
    Faults.SPAWN_ERROR: "spawn error",
    Faults.ABNORMAL_TERMINATION: "abnormal termination",
}
_SIGNAL_ERRORS: dict[int, str] = {
    Faults.BAD_NAME: "no such process",
    Faults.BAD_SIGNAL: "bad signal name",
    Faults.NOT_RUNNING: "not running",
}
_CLEAR_ERRORS: dict[int, str] = {Faults.BAD_NAME: "no such process", Faults.FAILED: "failed"}


def _unknown(code: int, name: str) -> ValueError:
    # Supervisor's supervisorctl fails the same way on a result code it has no words for.
    return ValueError(f"Unknown result code {code} for {name}")


def _reason(table: dict[int, str], code: int, name: str) -> str:
    if code == Faults.UNAUTHORIZED:  # vigil's read-only accounts; Supervisor has no such code
        return "not allowed: this account may only read"
    reason = table.get(code)
    if reason is None:
        raise _unknown(code, name)
    return reason


# Each ``*_outcome`` gives (the line the text form prints, the words of the result alone as
# ``--json`` shows them); ``*_result`` the line only.


def start_outcome(group: str, process: str | None, code: int) -> tuple[str, str]:
    name = make_namespec(group, str(process))
    if code == Faults.SUCCESS:
        return f"{name}: started", "started"
    reason = _reason(_START_ERRORS, code, name)
    return f"{name}: ERROR ({reason})", reason


def signal_outcome(
    group: str, process: str | None, code: int, description: str, success: str = "signalled"
) -> tuple[str, str]:
    """A stop or signal result; FAILED shows the server's own description."""
    name = make_namespec(group, str(process))
    if code == Faults.SUCCESS:
        return f"{name}: {success}", success
    if code == Faults.FAILED:
        return description, description
    reason = _reason(_SIGNAL_ERRORS, code, name)
    return f"{name}: ERROR ({reason})", reason


def clear_outcome(group: str, process: str | None, code: int) -> tuple[str, str]:
    name = make_namespec(group, str(process))
    if code == Faults.SUCCESS:
        return f"{name}: cleared", "cleared"
    reason = _reason(_CLEAR_ERRORS, code, name)
    return f"{name}: ERROR ({reason})", reason
