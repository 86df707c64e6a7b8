"""`python -m bench`: run the workloads side by side, print the table, write the JSON.

The exit status is 0 whatever the figures say (the benchmark informs, it never fails a build);
2 means it could not run at all (bad arguments, no Supervisor to compare with), 130 that it
was interrupted (what was measured until then is still reported).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from bench.daemons import ROOT
from bench.machine import describe_machine
from bench.processes import become_subreaper, raise_open_file_limit
from bench.profiles import FULL, QUICK, SMOKE, Sizes
from bench.report import document, problems, table, write_json
from bench.runner import Runner
from bench.waiting import BenchError
from bench.workloads import NAMES

DEFAULT_JSON = ROOT / "bench" / "results" / "latest.json"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark vigil against Supervisor 4.3.0, side by side in one run.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer repetitions, smaller sizes")
    size.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it all runs")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these workloads (repeat or separate with commas): {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, metavar="PATH", help="where to write results"
    )
    args = parser.parse_args(argv)
    chosen = {name.strip() for item in args.only or [] for name in item.split(",") if name.strip()}
    unknown = sorted(chosen - set(NAMES))
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}: choose from {', '.join(NAMES)}")
    args.only = chosen or set(NAMES)
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(sizes: Sizes, only: set[str], json_path: Path, argv: list[str]) -> int:
    machine = describe_machine()
    raise_open_file_limit()
    become_subreaper()
    started, clock = _now(), time.monotonic()
    _progress(f"benchmark ({sizes.mode}): {', '.join(n for n in NAMES if n in only)}")
    runner = Runner(sizes, only, _progress)
    results = runner.run()
    meta: dict[str, Any] = {
        "command": " ".join(["python -m bench", *argv]),
        "mode": sizes.mode,
        "started": started,
        "finished": _now(),
        "duration_s": round(time.monotonic() - clock, 1),
        "interrupted": runner.interrupted,
        "order": "per repetition and workload: Supervisor, then vigil, then the floor",
        "machine": {**machine, "load_average_end": [round(x, 2) for x in os.getloadavg()]},
        "sizes": dataclasses.asdict(sizes),
    }
    print(table(results))
    trouble = problems(results)
    if trouble:
        print("\nNot measured or failed:")
        print("\n".join(f"- {line}" for line in trouble))
    write_json(json_path, document(results, meta))
    print(f"\n{sizes.mode} run, {meta['duration_s']} s; results written to {json_path}")
    return 130 if runner.interrupted else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    sizes = SMOKE if args.smoke else QUICK if args.quick else FULL
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(sizes, args.only, args.json, argv)
    except BenchError as exc:
        print(f"python -m bench: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"python -m bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("python -m bench: interrupted", file=sys.stderr)
        return 130
