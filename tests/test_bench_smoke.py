"""The benchmark runs end to end at tiny sizes against both daemons and reports every figure.

The benchmark itself never fails a build on its numbers; this guards that it keeps working:
every workload measured on both sides (and its floor), a JSON document that says so, a table
that shows it, and clear errors for bad arguments. The large-fleet module (bench.scale) and
the live-stream module (bench.streams) are run the same way, in their smoke modes.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import scale, streams
from bench.waiting import BenchError
from bench.workloads import NAMES
from bench.writer import CHUNK, first_mismatch, stream

ROOT = Path(__file__).resolve().parent.parent
SUPERVISOR_VENV = ROOT / ".venv-supervisor"
RUN_TIMEOUT = 240.0


def _run_bench(*args: str, module: str = "bench") -> subprocess.CompletedProcess[str]:
    """Run `python -m bench` (or another bench module) as the Makefile does; on a hang,
    SIGTERM lets it end its own children before we end it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
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
        vigil_only = metric["vigil_only"]  # a key Supervisor does not have
        for side in wanted - ({"supervisor"} if vigil_only else set()):
            assert _numbers(metric["sides"][side]), f"{metric['name']}: no {side} figure"
        assert (
            metric["vigil_over_supervisor"] is not None
            or metric["name"].startswith("rest.")
            or vigil_only
        )
        assert metric["label"] in done.stdout, f"{metric['label']!r} is not in the table"
    assert "missing" not in done.stdout


@pytest.mark.timeout(RUN_TIMEOUT + 90)
def test_scale_smoke_run_measures_every_metric_at_every_size_on_both_sides(
    tmp_path: Path,
) -> None:
    assert (SUPERVISOR_VENV / "bin" / "supervisord").exists(), (
        f"Supervisor 4.3.0 is not installed in {SUPERVISOR_VENV}: run `make supervisor-ref`"
    )
    results = tmp_path / "scale.json"
    done = _run_bench("--smoke", "--json", str(results), module="bench.scale")
    assert done.returncode == 0, done.stderr
    report = json.loads(results.read_text())

    assert report["mode"] == "smoke" and not report["interrupted"]
    assert report["problems"] == [], report["problems"]
    assert report["settings"]["sizes"] == [20, 40] and report["settings"]["reps"] == 1
    machine = {"cores", "memory_gib", "kernel", "python", "supervisor", "vigil"}
    assert machine | {"load_average_start", "load_average_end"} <= set(report["machine"])
    assert report["machine"]["supervisor"] == "4.3.0"
    metrics = {metric["key"]: metric for metric in report["metrics"]}
    assert {"floor_s", "start_s", "status_s", "getallprocessinfo_s", "sigterm_s"} <= set(metrics)
    assert set(report["baseline_rss_mib"]) == {"supervisor", "vigil"}
    for side in ("supervisor", "vigil"):
        assert _numbers(report["baseline_rss_mib"][side])
    assert set(report["results"]) == {"20", "40"}
    for size, sides in report["results"].items():
        assert set(sides) == {"floor", "supervisor", "vigil"}, size
        assert set(sides["floor"]) == {"floor_s"}
        for side in ("supervisor", "vigil"):
            assert set(sides[side]) == set(metrics) - {"floor_s"}, f"{size} {side}"
        for side, figures in sides.items():
            for key, figure in figures.items():
                assert len(figure["samples"]) == 1 and figure["repetitions"] == [1]
                assert all(math.isfinite(x) for x in figure["samples"]), f"{size} {side} {key}"
                if key != "memory_per_program_kib":  # RSS noise may make it negative
                    assert _numbers(figure), f"{size} {side} {key}"
    for key, metric in metrics.items():
        if metric["growth"] is None:
            assert key not in report["growth"]
            continue
        wanted = {"floor"} if key == "floor_s" else {"supervisor", "vigil"}
        assert set(report["growth"][key]) == wanted, key
        for figures in report["growth"][key].values():
            assert set(figures["relative_to_smallest"]) == {"20", "40"}
            assert isinstance(figures["worse_than_linear"], bool)
    for label in ("start to 40 RUNNING", "supervisorctl status", "getAllProcessInfo", "growth"):
        assert label in done.stdout
    assert "missing" not in done.stdout


@pytest.mark.timeout(RUN_TIMEOUT + 90)
def test_streams_smoke_run_measures_every_figure_with_its_target(tmp_path: Path) -> None:
    assert (SUPERVISOR_VENV / "bin" / "supervisord").exists(), (
        f"Supervisor 4.3.0 is not installed in {SUPERVISOR_VENV}: run `make supervisor-ref`"
    )
    results = tmp_path / "streams.json"
    done = _run_bench("--smoke", "--json", str(results), module="bench.streams")
    assert done.returncode == 0, done.stderr
    report = json.loads(results.read_text())

    assert report["mode"] == "smoke" and report["reps"] == 1 and not report["interrupted"]
    assert report["problems"] == [], report["problems"]
    machine = {"cores", "kernel", "python", "supervisor", "vigil"}
    assert machine | {"load_average_start", "load_average_end"} <= set(report["machine"])
    assert report["machine"]["supervisor"] == "4.3.0"
    figures = {figure["key"]: figure for figure in report["figures"]}
    assert set(figures) == {figure.key for figure in streams.figures(streams.SMOKE)}
    settings = report["settings"]
    counts = {
        "state_at_to_sse": 2 * settings["changes"],
        "state_rpc_to_sse": settings["changes"],
        "line_logtail_vigil": settings["lines_per_follower"],
        "line_sse_vigil": settings["lines_per_follower"],
        "line_logtail_supervisor": settings["lines_per_follower"],
        "write_ratio": settings["write_pairs"],
        "list_json": settings["requests"],
        "list_ratio": 1,
    }
    for key, figure in figures.items():
        assert _numbers(figure), key
        assert figure["count"] == counts.get(key, figure["count"]), key
        assert figure["median"] is not None and figure["p90"] >= figure["min"], key
        if figure["limit"] is not None:
            assert isinstance(figure["met"], bool), key
    fleet = report["details"]["1"]["fleet"]
    assert fleet["rest_subscribed"]["streams"] == 2 * settings["subscribers"]
    for seen in fleet["subscriber_client"]:
        after = seen["after_write"]
        assert after["closed"] == 0 and after["lost"] == 0
        assert after["event_messages_min"] >= 3  # the writer's STARTING, RUNNING, EXITED
    for label in ("/logtail follower, Supervisor 4.3.0", "SSE log stream", "GET /api/v1"):
        assert label in done.stdout
    assert "missing" not in done.stdout


def test_scale_refuses_sizes_the_open_file_limit_cannot_hold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(which: int, limits: tuple[int, int]) -> None:
        raise ValueError("not allowed to raise maximum limit")

    monkeypatch.setattr(resource, "getrlimit", lambda which: (20000, 20000))
    monkeypatch.setattr(resource, "setrlimit", refuse)
    scale.check_fd_limit((1000, 2000, 3000))  # these fit: nothing to raise
    with pytest.raises(BenchError, match=r"`ulimit -n` is 20000.*at or below 3897") as raised:
        scale.check_fd_limit((1000, 5000, 10000))
    assert "5000 programs" in str(raised.value) and "10000 programs" in str(raised.value)


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
