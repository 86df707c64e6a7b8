"""What the figures were taken on: CPU, cores, kernel, Pythons, versions, load.

Benchmark numbers without the machine are anecdotes; the load average is recorded because a
busy machine slows both sides, and the reader should know it was busy.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import psutil

from bench.daemons import supervisor_executable
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
