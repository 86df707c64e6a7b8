"""Output: children writing to stdout as fast as they can, until their logs hold every byte.

The clock runs from the RPC that starts the writer(s) to the moment the log files hold every
byte (watched with stat, not by asking the daemon). Every log is then checked byte for byte
against the stream that was written; for the rotated log, the retained files concatenated
must be exactly the tail of that stream. The floor copies the same writer's pipe to a file
with os.read/os.write in a plain loop.

``output.single_timestamped`` is the single writer with ``stdout_logfile_timestamps = true``
(vigil only: Supervisor has no such key). Each line then gains a 25-byte stamp, so the log
cannot be compared with the stream: its size is counted instead (the stream's size plus 25
bytes per line), and the throughput is the stream's size over the time, as for
``output.single``, so the two figures divide into the cost of the stamps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.daemons import Daemon, Side, program_section, workspace
from bench.metrics import Measured, Metric
from bench.profiles import MIB, Sizes
from bench.waiting import BenchError, wait_for
from bench.workloads.base import Workload
from bench.writer import CHUNK, first_mismatch, stream

WRITER = Path(__file__).resolve().parent.parent / "writer.py"
SLOWEST_RATE = 2 * MIB  # bytes per second below which a run is declared stuck
SIZE_POLL = 0.002
STAMP_BYTES = len(b"2024-05-01T12:00:00.123Z ")  # before each line, with its space


def _timeout(total: int) -> float:
    return 30.0 + total / SLOWEST_RATE


def _writer_command(total: int) -> str:
    return f"{sys.executable} {WRITER} {total}"


class OutputWorkload(Workload):
    name = "output"
    description = "children writing to stdout until their log files hold every byte"

    def metrics(self) -> list[Metric]:
        sizes = self.sizes
        many, rotated = sizes.many_children, sizes.rotated_bytes
        return [
            self.metric(
                "single",
                f"one child writes {_mib(sizes.single_bytes)} to its log",
                "MiB/s",
                higher_is_better=True,
                has_floor=True,
            ),
            self.metric(
                "single_timestamped",
                "the same child, stdout_logfile_timestamps = true (vigil only)",
                "MiB/s",
                higher_is_better=True,
                vigil_only=True,
            ),
            self.metric(
                "many",
                f"{many} children write {_mib(sizes.many_bytes)} each",
                "MiB/s",
                higher_is_better=True,
            ),
            self.metric(
                "rotated",
                f"{_mib(rotated)} rotated at {_mib(sizes.rotate_maxbytes)}, "
                f"{sizes.rotate_backups} backups",
                "MiB/s",
                higher_is_better=True,
            ),
        ]

    def programs(self, tmp: Path) -> str:
        sizes = self.sizes
        common = {"autostart": "false", "autorestart": "false", "startsecs": 0}
        return (
            program_section(
                "single",
                {
                    "command": _writer_command(sizes.single_bytes),
                    "stdout_logfile": tmp / "single.log",
                    "stdout_logfile_maxbytes": 0,
                    **common,
                },
            )
            + program_section(
                "stamped",
                {
                    "command": _writer_command(sizes.single_bytes),
                    "stdout_logfile": tmp / "stamped.log",
                    "stdout_logfile_maxbytes": 0,
                    "stdout_logfile_timestamps": "true",
                    **common,
                },
            )
            + program_section(
                "many",
                {
                    "command": _writer_command(sizes.many_bytes),
                    "numprocs": sizes.many_children,
                    "process_name": "%(program_name)s_%(process_num)02d",
                    "stdout_logfile": tmp / "many_%(process_num)02d.log",
                    "stdout_logfile_maxbytes": 0,
                    **common,
                },
            )
            + program_section(
                "rotated",
                {
                    "command": _writer_command(sizes.rotated_bytes),
                    "stdout_logfile": tmp / "rotated.log",
                    "stdout_logfile_maxbytes": sizes.rotate_maxbytes,
                    "stdout_logfile_backups": sizes.rotate_backups,
                    **common,
                },
            )
        )

    def measure(self, side: Side, out: Measured) -> None:
        sizes = self.sizes
        with workspace() as tmp, Daemon(side, tmp, self.programs(tmp)) as daemon:
            daemon.start()
            single = [tmp / "single.log"]
            elapsed = _timed_output(
                daemon, "startProcess", "single", ["single"], single, sizes.single_bytes
            )
            out["output.single"] = [sizes.single_bytes / MIB / elapsed]
            if side is Side.VIGIL:
                elapsed = _timed_stamped(daemon, tmp / "stamped.log", sizes.single_bytes)
                out["output.single_timestamped"] = [sizes.single_bytes / MIB / elapsed]
            numbers = range(sizes.many_children)
            many = [tmp / f"many_{number:02d}.log" for number in numbers]
            names = [f"many:many_{number:02d}" for number in numbers]
            elapsed = _timed_output(
                daemon, "startProcessGroup", "many", names, many, sizes.many_bytes
            )
            out["output.many"] = [sizes.many_children * sizes.many_bytes / MIB / elapsed]
            elapsed = self._timed_rotation(daemon, tmp / "rotated.log")
            out["output.rotated"] = [sizes.rotated_bytes / MIB / elapsed]

    def _timed_rotation(self, daemon: Daemon, log: Path) -> float:
        total, backups = self.sizes.rotated_bytes, self.sizes.rotate_backups
        started = time.perf_counter()
        daemon.call("supervisor.startProcess", "rotated", False)
        wait_for(
            lambda: _ends_stream(_retained(log, backups), total),
            timeout=_timeout(total),
            interval=SIZE_POLL,
            what=f"{daemon.side}: the rotated log to end with the last byte written",
        )
        elapsed = time.perf_counter() - started
        _wait_exited(daemon, "rotated")
        retained = _retained(log, backups)
        problem = first_mismatch(retained, total)
        rotated_fully = total > (backups + 1) * self.sizes.rotate_maxbytes
        if problem is None and rotated_fully and len(retained) != backups + 1:
            problem = f"{len(retained) - 1} backups retained, not {backups}"
        if problem is not None:
            raise BenchError(f"{daemon.side}: rotated log: {problem}")
        return elapsed

    def measure_floor(self, out: Measured) -> None:
        with workspace() as tmp:
            out["output.single"] = [self.sizes.single_bytes / MIB / _pipe_loop(tmp, self.sizes)]


def _mib(size: int) -> str:
    return f"{size / MIB:g} MiB"


def _timed_output(
    daemon: Daemon, call: str, name: str, processes: list[str], logs: list[Path], each: int
) -> float:
    """Start `name` through `call`; seconds until every log holds `each` bytes, all checked."""
    started = time.perf_counter()
    daemon.call(f"supervisor.{call}", name, False)
    wait_for(
        lambda: all(_size(log) >= each for log in logs),
        timeout=_timeout(each * len(logs)),
        interval=SIZE_POLL,
        what=f"{daemon.side}: {len(logs)} log(s) of {name} to hold {each} bytes each",
    )
    elapsed = time.perf_counter() - started
    for log in logs:
        problem = first_mismatch([log], each)
        if problem is None and _size(log) != each:
            problem = f"{_size(log)} bytes, not {each}"
        if problem is not None:
            raise BenchError(f"{daemon.side}: {log.name}: {problem}")
    for process in processes:
        _wait_exited(daemon, process)
    return elapsed


def _timed_stamped(daemon: Daemon, log: Path, total: int) -> float:
    """Start the timestamped writer; seconds until its log holds the stream and a stamp per
    line, counted: the stamps make a byte-for-byte comparison impossible."""
    newlines, last = 0, b"\n"
    for piece in stream(total):
        newlines += piece.count(b"\n")
        last = piece[-1:]
    lines = newlines + (last != b"\n")  # a last line without its newline is stamped too
    expected = total + lines * STAMP_BYTES
    started = time.perf_counter()
    daemon.call("supervisor.startProcess", "stamped", False)
    wait_for(
        lambda: _size(log) >= expected,
        timeout=_timeout(expected),
        interval=SIZE_POLL,
        what=f"{daemon.side}: the timestamped log to hold {expected} bytes",
    )
    elapsed = time.perf_counter() - started
    _wait_exited(daemon, "stamped")
    if _size(log) != expected:
        raise BenchError(f"{daemon.side}: stamped.log: {_size(log)} bytes, not {expected}")
    return elapsed


def _wait_exited(daemon: Daemon, name: str) -> None:
    """Let a writer finish before the next starts, and make sure it finished well."""

    def exited() -> dict[str, Any] | None:
        info: dict[str, Any] = daemon.call("supervisor.getProcessInfo", name)
        return info if info["statename"] not in ("STARTING", "RUNNING", "STOPPING") else None

    info = wait_for(exited, timeout=60.0, what=f"{daemon.side}: {name} to exit")
    if info["statename"] != "EXITED" or info["exitstatus"] != 0:
        raise BenchError(
            f"{daemon.side}: writer {name} ended {info['statename']} "
            f"with status {info['exitstatus']}"
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _retained(log: Path, backups: int) -> list[Path]:
    """The rotated log's files, oldest first: log.N ... log.1, log."""
    older = [log.with_name(f"{log.name}.{n}") for n in range(backups, 0, -1)]
    return [path for path in [*older, log] if path.exists()]


def _ends_stream(paths: list[Path], total: int) -> bool:
    """True when the files, concatenated, end with the stream's last chunk (which names its
    own index, so it cannot be mistaken for an earlier one)."""
    ending = b"".join(stream(total, max(0, total - CHUNK)))
    tail = b""
    try:
        for path in reversed(paths):
            with path.open("rb") as file:
                size = file.seek(0, os.SEEK_END)
                want = len(ending) - len(tail)
                file.seek(max(0, size - want))
                tail = file.read(want) + tail
            if len(tail) >= len(ending):
                break
    except FileNotFoundError:
        return False  # rotated under our feet: look again
    return tail == ending


def _pipe_loop(tmp: Path, sizes: Sizes) -> float:
    """The floor: the writer's stdout through a pipe into a file by os.read and os.write."""
    total = sizes.single_bytes
    target = tmp / "floor.log"
    started = time.perf_counter()
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(total)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )
    assert writer.stdout is not None
    source = writer.stdout.fileno()
    sink = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    copied = 0
    try:
        while copied < total and (data := os.read(source, CHUNK)):
            view = memoryview(data)
            while view:
                view = view[os.write(sink, view) :]
            copied += len(data)
        elapsed = time.perf_counter() - started
    finally:
        os.close(sink)
        writer.stdout.close()  # a writer still going gets EPIPE and ends
        try:
            writer.wait(timeout=30)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()
    problem = first_mismatch([target], total)
    if problem is not None or copied != total:
        raise BenchError(f"floor: {problem or f'copied {copied} bytes, not {total}'}")
    return elapsed
