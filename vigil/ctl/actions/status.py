"""``status`` and ``pid``: what is running, and under which process id.

Both also speak JSON (``--json``) for scripts; then stdout holds only the JSON document and
complaints about names go to stderr (as for every action run with ``--json``). Exit statuses
are the same either way.
"""

from __future__ import annotations

import os

from vigil.core.states import STOPPED_STATES
from vigil.ctl.actions.base import COMPLETE_PROCESSES, Action, print_json, take_json_flag
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit, StatusExit
from vigil.ctl.names import split_namespec
from vigil.ctl.output import info_namespec, status_lines
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Callable

    from vigil.ctl.controller import Controller

    ProcessInfo = dict[str, object]
    Stats = dict[str, dict[str, object]]

# The fields of each process in `status --json`, as getProcessInfo names them.
STATUS_JSON_FIELDS = (
    "group",
    "name",
    "state",
    "statename",
    "description",
    "pid",
    "start",
    "stop",
    "now",
    "exitstatus",
    "spawnerr",
    "stdout_logfile",
    "stderr_logfile",
)


STATS_FLAG = "--stats"
# What `status --stats --json` adds to each record (null when not known: no child).
STATS_FIELDS = ("cpu_percent", "cpu_seconds", "rss_bytes", "rss_bytes_main", "open_fds", "restarts")
NO_STATS = (
    "Error: --stats: this daemon does not report CPU, memory or restarts "
    "(vigil.getProcessStats is vigil's; Supervisor has none)"
)


def process_stats(ctl: Controller) -> Stats:
    """Each process's figures by namespec, from ``vigil.getProcessStats``; empty, after saying
    so, from a daemon without it (Supervisor's)."""
    try:
        records = ctl.client.call("vigil.getProcessStats")
    except Fault as fault:
        if fault.code != Faults.UNKNOWN_METHOD:
            raise
        ctl.output(NO_STATS)
        return {}
    if not isinstance(records, list):
        raise TypeError(f"expected a list of process figures, got {records!r}")
    return {info_namespec(record): record for record in records}


def stats_lines(lines: list[str], infos: list[ProcessInfo], stats: Stats) -> list[str]:
    """The status lines with CPU%, MEM and RESTARTS columns after them ("-": not known),
    under a header naming them; descriptions are padded so that the columns line up."""
    width = max((len(line) for line in lines), default=0)
    rows = [f"{'':<{width}}  {'CPU%':>6}  {'MEM':>7}  {'RESTARTS':>8}"]
    for line, info in zip(lines, infos, strict=True):
        figures = stats.get(info_namespec(info), {})
        cpu = figures.get("cpu_percent")
        shown_cpu = f"{cpu:.1f}" if isinstance(cpu, int | float) else "-"
        rss = figures.get("rss_bytes")
        restarts = figures.get("restarts")
        rows.append(
            f"{line:<{width}}  {shown_cpu:>6}  "
            f"{_size(rss) if isinstance(rss, int | float) else '-':>7}  "
            f"{'-' if restarts is None else restarts:>8}"
        )
    return rows


def _size(count: float) -> str:
    """Bytes as ps and top show them: 812K, 64.3M, 1.2G."""
    for unit in ("K", "M", "G", "T"):
        count /= 1024
        if count < 1024 or unit == "T":
            return f"{count:.0f}{unit}" if unit == "K" else f"{count:.1f}{unit}"
    return f"{count:.1f}T"


def wants_colour(ctl: Controller) -> bool:
    """Whether to colour states: as ``color`` (or ``--color``) says. Off by default, as
    Supervisor prints; ``auto`` colours only for a person at a terminal who has not asked
    for none (no-color.org)."""
    mode = ctl.settings.color
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(ctl.stdout, "isatty", None)
    return bool(isatty and isatty())


def process_infos(result: object) -> list[ProcessInfo]:
    if not isinstance(result, list):
        raise TypeError(f"expected a list of process information, got {result!r}")
    return result


def select_processes(
    ctl: Controller, infos: list[ProcessInfo], names: list[str], report: Callable[[str], None]
) -> list[ProcessInfo]:
    """The processes the names ask for, in the order asked (``all`` or none: every one).
    An unknown name is reported and sets exit status 4."""
    if not names or "all" in names:
        return infos
    selected: list[ProcessInfo] = []
    for name in names:
        group, process = split_namespec(name)
        matches = [
            info
            for info in infos
            if info["group"] == group and (process is None or info["name"] == process)
        ]
        if not matches:
            ctl.exit_status = StatusExit.UNKNOWN
            if process is None:
                report(f"{group}: ERROR (no such group)")
            else:
                report(f"{name}: ERROR (no such process)")
        selected.extend(matches)
    return selected


class StatusAction(Action):
    name = "status"
    completes = COMPLETE_PROCESSES
    speaks_json = True
    help_lines = (
        "status <name>\t\tGet status for a single process",
        "status <gname>:*\tGet status for all processes in a group",
        "status <name> <name>\tGet status for multiple named processes",
        "status\t\t\tGet all process status info",
    )
    more_help_lines = (
        "status --json [...]\tThe same as a JSON array of one object per process with the",
        "\t\t\tkeys namespec, " + ", ".join(STATUS_JSON_FIELDS),
        "status --stats [...]\tWith CPU%, MEM (resident, with descendants) and RESTARTS",
        "\t\t\tcolumns (vigil's daemon only); with --json, the keys " + ", ".join(STATS_FIELDS),
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        names = [word for word in words if word != STATS_FLAG]
        if not ctl.upcheck():
            # Whatever stopped the check, status reports "unknown" (LSB status code 4).
            ctl.exit_status = StatusExit.UNKNOWN
            return False
        infos = process_infos(ctl.all_process_info())
        selected = select_processes(ctl, infos, names, ctl.output)
        stats = (process_stats(ctl) or None) if len(names) != len(words) else None
        if as_json:
            print_json(ctl, [_status_record(info, stats) for info in selected])
        else:
            lines = status_lines(selected, colour=wants_colour(ctl))
            for line in lines if stats is None else stats_lines(lines, selected, stats):
                ctl.output(line)
        if any(info["state"] in STOPPED_STATES for info in selected):
            ctl.exit_status = StatusExit.NOT_RUNNING
        return False


def _status_record(info: ProcessInfo, stats: Stats | None) -> dict[str, object]:
    record: dict[str, object] = {"namespec": info_namespec(info)}
    record.update((field, info.get(field)) for field in STATUS_JSON_FIELDS)
    if stats is not None:
        figures = stats.get(info_namespec(info), {})
        for field in STATS_FIELDS:
            value = figures.get(field)
            # sizes travel as XML-RPC doubles (an <int> stops at 2 GiB)
            sized = field.startswith("rss") and isinstance(value, float)
            record[field] = int(value) if sized and isinstance(value, float) else value
    return record


class PidAction(Action):
    name = "pid"
    completes = COMPLETE_PROCESSES
    speaks_json = True
    help_lines = (
        "pid\t\t\tGet the PID of supervisord.",
        "pid <name>\t\tGet the PID of a single child process by name.",
        "pid all\t\t\tGet the PID of every child process, one per line.",
    )
    more_help_lines = (
        'pid --json [...]\tThe same as JSON: {"pid": N} for supervisord, else an array',
        '\t\t\tof {"name": namespec, "pid": N} (pid 0: not running)',
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        names, as_json = take_json_flag(arg.split())
        if not ctl.upcheck():
            return False
        if not names:
            pid = ctl.supervisor("getPID")
            if as_json:
                print_json(ctl, {"pid": pid})
            else:
                ctl.output(str(pid))
        elif "all" in names:
            infos = process_infos(ctl.all_process_info())
            self._show(ctl, [(info_namespec(info), info["pid"]) for info in infos], as_json)
        else:
            pids = self._named_pids(ctl, names, as_json)
            if as_json:
                self._show(ctl, pids, as_json)
        return False

    @staticmethod
    def _show(ctl: Controller, pids: list[tuple[str, object]], as_json: bool) -> None:
        if as_json:
            print_json(ctl, [{"name": name, "pid": pid} for name, pid in pids])
        else:
            for _name, pid in pids:
                ctl.output(str(pid))

    @staticmethod
    def _named_pids(ctl: Controller, names: list[str], as_json: bool) -> list[tuple[str, object]]:
        """Pids of named processes, printed as they come unless collected for JSON. An
        unknown name is reported in its place (exit 1); a stopped process has pid 0 (exit 7)."""
        pids: list[tuple[str, object]] = []
        for name in names:
            try:
                info = ctl.supervisor("getProcessInfo", name)
            except Fault as fault:
                ctl.exit_status = InitExit.GENERIC
                if fault.code != Faults.BAD_NAME:
                    raise
                ctl.output(f"No such process {name}")
                continue
            pid = info.get("pid") if isinstance(info, dict) else None
            if as_json:
                pids.append((name, pid))
            else:
                ctl.output(str(pid))
            if pid == 0:
                ctl.exit_status = InitExit.NOT_RUNNING
        return pids
