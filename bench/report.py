"""The results as one Markdown table (for the terminal and the docs) and as JSON.

A side with no samples shows as "missing" and its reasons are listed under the table, so a
figure that could not be measured is never mistaken for one that was.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from bench.daemons import Side
from bench.metrics import Metric, Results, Summary
from bench.targets import targets_for

HEADERS = (
    "workload",
    "unit",
    "Supervisor median (min–max)",
    "vigil median (min–max)",
    "vigil ÷ Supervisor",
    "floor",
    "target (vigil's advantage)",
    "met",
)


def number(value: float) -> str:
    if math.isinf(value):
        return "∞"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def spread(summary: Summary | None) -> str:
    if summary is None:
        return "missing"
    if summary.count == 1:
        return number(summary.median)
    return f"{number(summary.median)} ({number(summary.minimum)}–{number(summary.maximum)})"


def ratio(results: Results, metric: Metric) -> float | None:
    ours = results.summary(metric.name, Side.VIGIL)
    theirs = results.summary(metric.name, Side.SUPERVISOR)
    if ours is None or theirs is None or theirs.median == 0:
        return None
    return ours.median / theirs.median


def _ratio_cell(results: Results, metric: Metric, value: float | None) -> str:
    if value is not None:
        return number(value)
    both = all(results.of(metric.name, side) for side in (Side.SUPERVISOR, Side.VIGIL))
    return "n/a" if both else "missing"  # n/a: Supervisor's figure is zero


def target_cells(results: Results, metric: Metric) -> tuple[str, str]:
    goals, verdicts = [], []
    for target in targets_for(metric.name):
        value, met = target.evaluate(results)
        against = "" if target.against is Side.SUPERVISOR else "floor: "
        shown = "?" if value is None else f"{number(value)}x"
        goals.append(f"{against}{target.text} ({shown})")
        verdicts.append("–" if met is None else "yes" if met else "**NO**")
    return "; ".join(goals), "; ".join(verdicts)


def rows(results: Results) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for metric in results.metrics:
        value = ratio(results, metric)
        floor = spread(results.summary(metric.name, Side.FLOOR)) if metric.has_floor else ""
        goal, met = target_cells(results, metric)
        unit = f"{metric.unit} {'↑' if metric.higher_is_better else '↓'}"
        found.append(
            (
                metric.label,
                unit,
                "—" if metric.vigil_only else spread(results.summary(metric.name, Side.SUPERVISOR)),
                spread(results.summary(metric.name, Side.VIGIL)),
                "—" if metric.vigil_only else _ratio_cell(results, metric, value),
                floor,
                goal,
                met,
            )
        )
    return found


def table(results: Results) -> str:
    """A Markdown table, padded so that it also reads as plain text."""
    body = rows(results)
    widths = [max(len(row[i]) for row in [HEADERS, *body]) for i in range(len(HEADERS))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(HEADERS), rule, *(line(row) for row in body)])


def problems(results: Results) -> list[str]:
    return [
        f"{family} / {side}: {reason}"
        for family, sides in results.problems.items()
        for side, reasons in sides.items()
        for reason in reasons
    ]


def document(results: Results, meta: dict[str, Any]) -> dict[str, Any]:
    metrics = []
    for metric in results.metrics:
        sides: dict[str, Any] = {}
        for side in results.sides_of(metric):
            summary = results.summary(metric.name, side)
            sides[side.value] = {
                "samples": results.of(metric.name, side),
                "summary": None if summary is None else dataclasses.asdict(summary),
            }
        targets = []
        for target in targets_for(metric.name):
            value, met = target.evaluate(results)
            targets.append(
                {
                    "text": target.text,
                    "against": target.against.value,
                    "at_least": target.at_least,
                    "advantage": None if value is None or math.isinf(value) else value,
                    "met": met,
                }
            )
        metrics.append(
            {
                **dataclasses.asdict(metric),
                "sides": sides,
                "vigil_over_supervisor": ratio(results, metric),
                "targets": targets,
            }
        )
    return {
        **meta,
        "metrics": metrics,
        "problems": {
            family: {side.value: reasons for side, reasons in by_side.items()}
            for family, by_side in results.problems.items()
        },
    }


def write_json(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
