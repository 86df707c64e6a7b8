"""bench.streams' report: the table of figures (median, p90, target, met) and the JSON document."""

from __future__ import annotations

import statistics
from typing import Any

from bench.report import number
from bench.streams_profile import Figure, figures
from bench.streams_run import Run


def p90(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=10, method="inclusive")[8]


def verdict(figure: Figure, samples: list[float]) -> bool | None:
    if figure.limit is None or not samples:
        return None
    return statistics.median(samples) <= figure.limit


def table(run: Run) -> str:
    headers = ("figure", "unit", "n", "median", "p90", "target", "met")
    body = []
    for figure in figures(run.profile):
        samples = run.samples[figure.key]
        met = verdict(figure, samples)
        body.append(
            (
                figure.label,
                figure.unit,
                str(len(samples)),
                number(statistics.median(samples)) if samples else "missing",
                number(p90(samples)) if samples else "",
                figure.target,
                "" if met is None and not figure.limit else "yes" if met else "**NO**",
            )
        )
    widths = [max(len(row[i]) for row in [headers, *body]) for i in range(len(headers))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in body)])


def document(run: Run, meta: dict[str, Any]) -> dict[str, Any]:
    found = []
    for figure in figures(run.profile):
        samples = run.samples[figure.key]
        found.append(
            {
                "key": figure.key,
                "label": figure.label.strip(),
                "unit": figure.unit,
                "samples": samples,
                "count": len(samples),
                "median": statistics.median(samples) if samples else None,
                "p90": p90(samples) if samples else None,
                "min": min(samples) if samples else None,
                "max": max(samples) if samples else None,
                "target": figure.target or None,
                "limit": figure.limit,
                "met": verdict(figure, samples),
            }
        )
    return {
        **meta,
        "interrupted": run.interrupted,
        "figures": found,
        "details": run.details,
        "problems": run.problems,
    }
