"""The large fleet, side by side: N programs started, listed, stopped, started again, shut down.

    python -m bench.scale [--sizes 1000,2000,5000,10000] [--reps 3] [--supervisor-up-to 2000]
                          [--json PATH] [--smoke]

The programs are N `sleep 1000` sleepers (one `[program:sleeper]` with numprocs=N,
`startsecs=0`, `autorestart=false`), the daemon runs in the foreground (`nodaemon`) on the
config of bench.daemons with `minfds` raised to hold N programs, and each side is started as
bench.fixed_costs starts it: `python -m vigil`, and Supervisor 4.3.0 left alone (no client
wakes it up) with `python -m supervisor.supervisord`, for the sizes up to `--supervisor-up-to`
only (Supervisor takes many minutes at 10,000). Every repetition first measures each side's
daemon with 10 programs (the RSS baseline), then for each size: the floor, Supervisor, vigil,
so that the load of a shared machine falls on all of them alike. For each size and side, in
one daemon and in this order:

- **floor**: a plain Python loop of `subprocess.Popen` starting the same N sleepers
  (bench.workloads.floor), the least any supervisor written in Python could need;
- **start to N RUNNING**: from launching the daemon until its main log has said N times
  "entered RUNNING state", read from outside (bench.daemons.RunningLines), so that no
  request wakes the daemon; and **start ÷ floor**, the ratio to the floor of the same
  repetition;
- **supervisorctl status**: the wall time of the side's own supervisorctl as a whole process
  (`python -m vigil.ctl.main` / `python -m supervisor.supervisorctl`, as bench.fixed_costs
  runs it), whose output must be N lines, each RUNNING, with exit status 0;
- **RSS at rest**: VmRSS of the daemon (/proc/PID/status) `SETTLE` seconds after that one
  status call; **memory per program** = (RSS at N - RSS of the same side with 10 programs
  in the same repetition) / (N - 10);
- **getAllProcessInfo** on a new unix-socket connection, from connecting to the last byte
  of the answer (bench.rpc; parsed afterwards): N entries, all RUNNING, each pid running
  `sleep` (exec'd, not only forked);
- **stopAllProcesses(wait=True)**, then **startAllProcesses(wait=True)**, each as one call
  on a new connection: N results, every one SUCCESS;
- **SIGTERM to exit**: once every new pid runs `sleep`, from `kill(SIGTERM)` until the
  daemon has exited (seen through a pidfd) and been reaped; none of its N programs may be
  left alive.

The table gives the median and the min-max of the repetitions. Each "growth" line divides
a metric by N (memory per program is per program already) and sets each size beside the
smallest: a per-program cost at the largest size more than 1.5 times that at the smallest is
flagged as growing worse than linearly. The JSON (default bench/results/scale.json) holds
every sample, the growth figures, the machine (cores, memory, load average at the start and
the end, kernel, Pythons) and the versions of both sides.

Each daemon holds about FDS_PER_PROGRAM descriptors per program (its ends of three pipes and
two log files, measured on both sides), so before anything starts the largest size is checked
against `ulimit -n`: a daemon raises its own limit to `minfds`, the hard limit too when it is
privileged; when it could not, the run stops and says which size does not fit. Every wait has
a deadline that grows with N. Every process started is ended through the process group or
the pid this module created (the daemons in sessions of their own, their orphaned programs by
the workspace's sweep, bench being their subreaper); Ctrl-C or SIGTERM stops the run, ends
them, and still prints and writes what was measured. Exit status: 0, 1 when a measurement
failed (listed under the table and in the JSON), 2 when the run could not start, 130 when
interrupted.

Run `python -m compileall -q vigil` first (`make bench-scale` does), as for `make bench`: an
editable install under PYTHONDONTWRITEBYTECODE would otherwise compile vigil at every start.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench.daemons import ROOT, Side, supervisor_executable
from bench.entry import main_of, now, progress
from bench.machine import machine
from bench.processes import become_subreaper
from bench.report import write_json
from bench.scale_fleet import (
    BASELINE_PROGRAMS,
    DEADLINE_BASE,
    DEADLINE_PER_PROGRAM,
    FD_HEADROOM,
    FDS_PER_PROGRAM,
    SETTLE,
    check_fd_limit,
)
from bench.scale_report import NONLINEAR, document, growth, print_report
from bench.scale_run import Run, repetitions_text

DEFAULT_SIZES = (1000, 2000, 5000, 10000)
DEFAULT_REPS = 3
DEFAULT_SUPERVISOR_UP_TO = 2000
SMOKE_SIZES = (20, 40)
DEFAULT_JSON = ROOT / "bench" / "results" / "scale.json"


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = sorted({int(word) for word in text.split(",") if word.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not sizes or sizes[0] <= BASELINE_PROGRAMS:
        raise argparse.ArgumentTypeError(
            f"sizes must be above {BASELINE_PROGRAMS}, the programs of the memory baseline"
        )
    return tuple(sizes)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=_sizes, metavar="N,N,...", help=f"default {DEFAULT_SIZES}")
    parser.add_argument("--reps", type=_count, help=f"repetitions, default {DEFAULT_REPS}")
    parser.add_argument(
        "--supervisor-up-to",
        type=_count,
        default=DEFAULT_SUPERVISOR_UP_TO,
        metavar="N",
        help="measure Supervisor 4.3.0 at the sizes up to N only (0: never)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH")
    parser.add_argument(
        "--smoke", action="store_true", help=f"sizes {SMOKE_SIZES}, one repetition: does it run"
    )
    args = parser.parse_args(argv)
    if args.smoke and (args.sizes is not None or args.reps is not None):
        parser.error("--smoke sets the sizes and repetitions itself")
    if args.reps == 0:
        parser.error("--reps must be at least 1")
    args.sizes = SMOKE_SIZES if args.smoke else args.sizes or DEFAULT_SIZES
    args.reps = 1 if args.smoke else args.reps or DEFAULT_REPS
    return args


def run(args: argparse.Namespace, argv: list[str]) -> int:
    measured = Run(args.sizes, args.reps, args.supervisor_up_to)
    need_supervisor = Side.SUPERVISOR in measured.daemon_sides()
    if need_supervisor:
        supervisor_executable("python")  # fails now, with how to install it, if it is missing
    check_fd_limit(args.sizes)
    about = machine(need_supervisor)
    if about["vigil_stale_bytecode_modules"]:
        progress(
            f"warning: {about['vigil_stale_bytecode_modules']} of vigil's modules have no "
            "up-to-date byte-code, so every vigil start compiles them: run "
            "`python -m compileall -q vigil` first (`make bench-scale` does)"
        )
    become_subreaper()  # programs orphaned by a killed daemon become ours, and are swept
    started, clock = now(), time.monotonic()
    progress(
        f"bench.scale: sizes {', '.join(map(str, args.sizes))}, {repetitions_text(args.reps)}, "
        f"Supervisor up to {args.supervisor_up_to}"
    )
    measured.measure()
    about["load_average_end"] = [round(load, 2) for load in os.getloadavg()]
    grown = growth(measured)
    meta = {
        "command": " ".join(["python -m bench.scale", *argv]),
        "mode": "smoke" if args.smoke else "full",
        "started": started,
        "finished": now(),
        "duration_s": round(time.monotonic() - clock, 1),
        "settings": {
            "sizes": list(args.sizes),
            "reps": args.reps,
            "supervisor_up_to": args.supervisor_up_to,
            "baseline_programs": BASELINE_PROGRAMS,
            "settle_s": SETTLE,
            "fds_per_program": FDS_PER_PROGRAM,
            "fd_headroom": FD_HEADROOM,
            "deadline_s": f"{DEADLINE_BASE:g} + {DEADLINE_PER_PROGRAM:g} per program",
            "nonlinear_factor": NONLINEAR,
            "order": "per repetition: baselines (Supervisor, vigil), then per size the floor, "
            "Supervisor, vigil",
        },
        "machine": about,
    }
    print_report(measured, grown)
    write_json(args.json, document(measured, meta, grown))
    print(f"\n{meta['duration_s']} s; results written to {args.json}")
    if measured.interrupted:
        return 130
    return 1 if measured.problems else 0


def main(argv: list[str] | None = None) -> int:
    return main_of("python -m bench.scale", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
