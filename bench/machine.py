"""What the figures were taken on: CPU, cores, kernel, Pythons, versions, load.

Benchmark numbers without the machine are anecdotes; the load average is recorded because a
busy machine slows both sides, and the reader should know it was busy.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import resource
import subprocess
from pathlib import Path
from typing import Any

import psutil

from bench.daemons import ROOT, supervisor_executable
from bench.processes import run_in_session
from bench.waiting import BenchError


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def supervisor_versions() -> tuple[str, str]:
    """(Supervisor's version, the version of the Python it runs on), asked of its own venv."""
    code = (
        "import importlib.metadata, platform;"
        "print(importlib.metadata.version('supervisor'), platform.python_version())"
    )
    try:
        done = subprocess.run(
            [supervisor_executable("python"), "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"cannot run Supervisor's Python: {exc}") from exc
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 2:
        raise BenchError(f"cannot read Supervisor's version: {done.stderr.strip()[-300:]}")
    return words[0], words[1]


def vigil_version() -> str:
    import vigil

    return str(vigil.__version__)


def describe_machine() -> dict[str, Any]:
    supervisor, supervisor_python = supervisor_versions()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / (1 << 30), 1),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_supervisor": supervisor_python,
        "supervisor": supervisor,
        "vigil": vigil_version(),
        "load_average_start": [round(load, 2) for load in os.getloadavg()],
    }


def stale_bytecode() -> int:
    """How many of vigil's modules have no valid byte-code cache (each daemon start would
    compile them under PYTHONDONTWRITEBYTECODE)."""
    stale = 0
    for source in (ROOT / "vigil").rglob("*.py"):
        try:
            stat = source.stat()
            cached = Path(importlib.util.cache_from_source(str(source)))
            with cached.open("rb") as file:
                header = file.read(16)
        except (OSError, ValueError):
            stale += 1
            continue
        flags = int.from_bytes(header[4:8], "little")
        mtime = int.from_bytes(header[8:12], "little")
        size = int.from_bytes(header[12:16], "little")
        if len(header) < 16 or (
            flags == 0
            and (mtime != int(stat.st_mtime) & 0xFFFFFFFF or size != stat.st_size & 0xFFFFFFFF)
        ):
            stale += 1
    return stale


def machine(need_supervisor: bool) -> dict[str, Any]:
    """bench.machine's description, the open-file limits and the vigil tree measured."""
    if need_supervisor:
        found = describe_machine()
    else:
        try:
            found = describe_machine()
        except BenchError:
            found = {
                "cpu": cpu_model(),
                "cores": os.cpu_count(),
                "memory_gib": round(psutil.virtual_memory().total / (1 << 30), 1),
                "kernel": f"{platform.system()} {platform.release()}",
                "python": platform.python_version(),
                "python_supervisor": None,
                "supervisor": None,
                "vigil": vigil_version(),
                "load_average_start": [round(load, 2) for load in os.getloadavg()],
            }
    found["ulimit_n"] = list(resource.getrlimit(resource.RLIMIT_NOFILE))
    try:
        _, head, _ = run_in_session(["git", "rev-parse", "HEAD"], ROOT, 30.0)
        _, changed, _ = run_in_session(["git", "status", "--porcelain", "--", "vigil"], ROOT, 30.0)
        found["vigil_commit"] = head.decode().strip()
        found["vigil_tree_modified"] = bool(changed.strip())
    except (OSError, BenchError):
        found["vigil_commit"] = None
    found["vigil_stale_bytecode_modules"] = stale_bytecode()
    return found
