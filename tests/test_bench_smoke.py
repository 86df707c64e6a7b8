"""The benchmark runs end to end at tiny sizes against both daemons and reports every figure.

The benchmark itself never fails a build on its numbers; this guards that it keeps working:
every workload measured on both sides (and its floor), a JSON document that says so, a table
that shows it, and clear errors for bad arguments.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.workloads import NAMES
from bench.writer import CHUNK, first_mismatch, stream

ROOT = Path(__file__).resolve().parent.parent
SUPERVISOR_VENV = ROOT / ".venv-supervisor"
RUN_TIMEOUT = 240.0


def _run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bench` as the Makefile does; on a hang, SIGTERM lets it end its own
    children before we end it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
        raise AssertionError(f"the smoke run took over {RUN_TIMEOUT:g} s:\n{stderr}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _numbers(side: dict[str, Any]) -> list[float]:
    samples = side["samples"]
    assert all(isinstance(x, int | float) and math.isfinite(x) and x >= 0 for x in samples)
    return list(samples)


@pytest.mark.timeout(RUN_TIMEOUT + 90)
def test_smoke_run_measures_every_workload_on_both_sides(tmp_path: Path) -> None:
    assert (SUPERVISOR_VENV / "bin" / "supervisord").exists(), (
        f"Supervisor 4.3.0 is not installed in {SUPERVISOR_VENV}: run `make supervisor-ref`"
    )
    results = tmp_path / "results.json"
    done = _run_bench("--smoke", "--json", str(results))
    assert done.returncode == 0, done.stderr
    report = json.loads(results.read_text())

    assert report["mode"] == "smoke" and not report["interrupted"]
    assert report["problems"] == {}, report["problems"]
    assert {"cpu", "cores", "kernel", "python", "supervisor", "vigil"} <= set(report["machine"])
    assert report["machine"]["supervisor"] == "4.3.0"
    assert {metric["family"] for metric in report["metrics"]} == set(NAMES)
    for metric in report["metrics"]:
        wanted = {"supervisor", "vigil"} | ({"floor"} if metric["has_floor"] else set())
        assert set(metric["sides"]) == wanted, metric["name"]
        for side in wanted:
            assert _numbers(metric["sides"][side]), f"{metric['name']}: no {side} figure"
        assert metric["vigil_over_supervisor"] is not None or metric["name"].startswith("rest.")
        assert metric["label"] in done.stdout, f"{metric['label']!r} is not in the table"
    assert "missing" not in done.stdout


def test_unknown_workload_is_named_with_the_choices() -> None:
    done = _run_bench("--only", "start,bogus")
    assert done.returncode == 2
    assert "unknown workload bogus: choose from start, reaction" in done.stderr
    assert "Traceback" not in done.stderr


def test_rotated_tail_check_accepts_the_exact_tail_and_nothing_else(tmp_path: Path) -> None:
    total = 3 * CHUNK + 1000
    data = b"".join(stream(total))
    older, newer = tmp_path / "log.1", tmp_path / "log"
    older.write_bytes(data[-2 * CHUNK : -CHUNK])
    newer.write_bytes(data[-CHUNK:])
    assert first_mismatch([older, newer], total) is None

    newer.write_bytes(data[-CHUNK:-1] + b"?")
    assert first_mismatch([older, newer], total) == f"log: byte {total - 1} of the stream differs"
    newer.write_bytes(data[-CHUNK + 1 :])  # one byte lost between the two files
    assert first_mismatch([older, newer], total) is not None
    assert first_mismatch([newer, older], total) is not None  # files in the wrong order
