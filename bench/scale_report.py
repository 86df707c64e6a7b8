"""bench.scale's report: the metrics, the tables per size, the growth per program and the JSON
document.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.daemons import Side
from bench.report import number
from bench.scale_fleet import BASELINE_PROGRAMS
from bench.scale_run import DAEMON_ORDER, Run, repetitions_text

NONLINEAR = 1.5
SIDE_NAMES = {Side.FLOOR: "floor", Side.VIGIL: "vigil", Side.SUPERVISOR: "Supervisor 4.3.0"}


@dataclass(frozen=True)
class Metric:
    """One figure: its samples are stored in `unit`, shown multiplied by `scale` in `shown`."""

    key: str
    label: str
    unit: str
    shown: str
    scale: float
    digits: int
    growth: str | None  # "per_program": divided by N; "value": per program already; None


METRICS = (
    Metric("floor_s", "floor: Popen loop", "s", "ms", 1000, 0, "per_program"),
    Metric("start_s", "start to N RUNNING", "s", "ms", 1000, 0, "per_program"),
    Metric("start_over_floor", "start ÷ floor", "ratio", "×", 1, 2, None),
    Metric("status_s", "supervisorctl status", "s", "ms", 1000, 0, "per_program"),
    Metric("rss_mib", "RSS at rest", "MiB", "MiB", 1, 1, None),
    Metric("memory_per_program_kib", "memory per program", "KiB", "KiB", 1, 1, "value"),
    Metric("getallprocessinfo_s", "getAllProcessInfo, new connection", "s", "ms", 1000, 1,
           "per_program"),
    Metric("stop_all_s", "stopAllProcesses(wait=True)", "s", "ms", 1000, 0, "per_program"),
    Metric("start_all_s", "startAllProcesses(wait=True)", "s", "ms", 1000, 0, "per_program"),
    Metric("sigterm_s", "SIGTERM to exit (reaped)", "s", "ms", 1000, 0, "per_program"),
)  # fmt: skip
BY_KEY = {metric.key: metric for metric in METRICS}


def summary(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def cell(samples: list[float] | None, metric: Metric) -> str:
    if not samples:
        return "missing"
    values = [sample * metric.scale for sample in samples]
    median = f"{statistics.median(values):.{metric.digits}f}"
    if len(values) == 1:
        return median
    return f"{median} ({min(values):.{metric.digits}f}–{max(values):.{metric.digits}f})"


def growth(run: Run) -> dict[str, dict[str, dict[str, Any]]]:
    """Per metric and side: the per-program cost (the median divided by N, or the median of
    a per-program figure) at each size, relative to the smallest size measured."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for metric in METRICS:
        if metric.growth is None:
            continue
        for side in (Side.FLOOR, *DAEMON_ORDER):
            medians = {
                count: statistics.median(samples)
                for count in run.sizes
                if (samples := run.of(count, side, metric.key))
            }
            if len(medians) < 2:
                continue
            per_program = {
                count: value / count if metric.growth == "per_program" else value
                for count, value in medians.items()
            }
            smallest, largest = min(per_program), max(per_program)
            base = per_program[smallest]
            relative = {
                count: value / base if base > 0 else None for count, value in per_program.items()
            }
            last = relative[largest]
            found.setdefault(metric.key, {})[str(side)] = {
                "per_program": {str(count): value for count, value in per_program.items()},
                "per_program_unit": metric.unit
                if metric.growth == "value"
                else f"{metric.unit}/program",
                "relative_to_smallest": {str(count): value for count, value in relative.items()},
                "smallest": smallest,
                "largest": largest,
                "worse_than_linear": last is not None and last > NONLINEAR,
            }
    return found


def print_report(run: Run, grown: dict[str, dict[str, dict[str, Any]]]) -> None:
    width = 30
    repetitions = repetitions_text(run.reps)
    floor_metric = BY_KEY["floor_s"]
    for count in run.sizes:
        sides = [side for side in (Side.VIGIL, Side.SUPERVISOR) if side in run.sides_at(count)]
        floor = cell(run.of(count, Side.FLOOR, "floor_s"), floor_metric)
        print(f"\n{count} programs, {repetitions}; median (min–max)")
        print(f"floor, a plain Popen loop of the same sleepers: {floor} {floor_metric.shown}")
        print(f"{'metric':38}" + "".join(f"{SIDE_NAMES[side]:>{width}}" for side in sides))
        for metric in METRICS:
            if metric.key == "floor_s":
                continue
            label = metric.label.replace("N RUNNING", f"{count} RUNNING")
            cells = [cell(run.of(count, side, metric.key), metric) for side in sides]
            print(f"{label + ', ' + metric.shown:38}" + "".join(f"{c:>{width}}" for c in cells))
    baselines = ", ".join(
        f"{SIDE_NAMES[side]} {cell(list(run.baseline[side].values()), BY_KEY['rss_mib'])} MiB"
        for side in run.daemon_sides()
    )
    print(f"\nRSS at rest with {BASELINE_PROGRAMS} programs (the baseline): {baselines}")
    print(
        f"\ngrowth: cost per program at each size (time in µs, memory in KiB), × that at the "
        f"smallest size; flagged above {NONLINEAR}× at the largest"
    )
    for metric in METRICS:
        for side, figures in grown.get(metric.key, {}).items():
            steps = []
            for size, value in figures["per_program"].items():
                shown = value * 1e6 if metric.growth == "per_program" else value
                relative = figures["relative_to_smallest"][size]
                ratio = "" if relative is None else f" ×{relative:.2f}"
                steps.append(f"{size}: {number(shown)}{ratio}")
            flag = "  WORSE THAN LINEAR" if figures["worse_than_linear"] else ""
            name = SIDE_NAMES[Side(side)]
            print(f"  {metric.label:36} {name:17} " + "   ".join(steps) + flag)
    if run.problems:
        print("\nNot measured or failed:")
        print("\n".join(f"- {problem}" for problem in run.problems))


def document(run: Run, meta: dict[str, Any], grown: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for count in run.sizes:
        for side in (Side.FLOOR, *run.sides_at(count)):
            results.setdefault(str(count), {})[str(side)] = {
                key: {
                    "samples": list(by_rep.values()),
                    "repetitions": list(by_rep),
                    **summary(list(by_rep.values())),
                }
                for key, by_rep in run.samples[count][side].items()
                if by_rep
            }
    return {
        **meta,
        "interrupted": run.interrupted,
        "metrics": [
            {"key": m.key, "label": m.label, "unit": m.unit, "growth": m.growth} for m in METRICS
        ],
        "baseline_rss_mib": {
            str(side): {
                "programs": BASELINE_PROGRAMS,
                "samples": list(run.baseline[side].values()),
                "repetitions": list(run.baseline[side]),
            }
            for side in run.daemon_sides()
        },
        "results": results,
        "growth": grown,
        "problems": run.problems,
    }
