"""`python -m bench.http_stacks`: what each candidate HTTP server stack costs vigil, measured.

For each stack (`bench.http_stack_launch.STACKS`) a minimal server runs in a fresh process,
on a unix socket and on TCP 127.0.0.1, answering POST /RPC2 with a fixed small XML body and
streaming chunked responses (`bench.http_stack_servers`). Measured, stacks alternating within
each repetition so that drift of the machine falls on all of them alike:

- the import time of asyncio and what the server needs, in fresh processes;
- from launching the process until it has answered on both sockets;
- resident memory once it has answered, and after 100 more requests;
- one request on a new connection (median of up to N, bounded in time), unix and TCP;
- requests per second on keep-alive connections from 1 and 4 client processes, unix and TCP
  (each client bounded in time and count);
- a 1 MiB chunked stream, read whole;
- which of vigil's needs it meets (unix socket, TCP, streaming, SSE, body and head limits,
  keep-alive timeout), checked with `http.client` and raw sockets.

A stack whose library is not installed is skipped and reported as such. Only loopback
traffic; every wait is bounded; every process started is ended by its pid. The exit status is
0 whatever the figures say, 2 for bad arguments, 130 if interrupted (what was measured until
then is still reported).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.daemons import ROOT
from bench.http_stack_client import features, latencies, one_call, stream_seconds
from bench.http_stack_launch import DISTRIBUTIONS, STACKS, Stack
from bench.machine import cpu_model
from bench.waiting import BenchError, wait_for

DEFAULT_JSON = ROOT / "bench" / "results" / "http_stacks.json"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
CLIENT_GRACE = 30.0  # beyond its own time bound, before a load client counts as hung


@dataclass(frozen=True)
class Plan:
    repetitions: int = 3
    import_samples: int = 5  # fresh processes per stack and repetition
    warm_requests: int = 100  # between the two memory readings
    latency_count: int = 300  # per transport and repetition, at most
    latency_seconds: float = 5.0
    load_seconds: float = 2.0  # per client process and case, at most
    load_max_requests: int = 50_000
    clients: tuple[int, ...] = (1, 4)
    stream_samples: int = 5


FULL = Plan()
QUICK = Plan(1, 3, 100, 100, 2.0, 1.0, 20_000, (1, 4), 3)


def _python(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _end(proc: subprocess.Popen[str]) -> None:
    """SIGTERM by pid, then SIGKILL if it lingers; always reaped."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def import_once(stack: Stack) -> tuple[float, float]:
    """(ms importing asyncio, ms importing the stack after it), in a fresh process."""
    proc = _python("-m", "bench.http_stack_launch", stack.name, "--import-only")
    try:
        out, err = proc.communicate(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        _end(proc)
        raise BenchError(f"{stack.name}: importing took over {START_TIMEOUT:g} s") from None
    words = out.split()
    if proc.returncode != 0 or len(words) != 2:
        last = (err.strip() or "?").splitlines()[-1]
        raise BenchError(f"{stack.name}: the import failed: {last}")
    return float(words[0]), float(words[1])


class Server:
    """One stack's server process: started, answering on both sockets, then ended."""

    def __init__(self, stack: Stack, directory: Path) -> None:
        self.stack = stack
        self.socket_file = directory / (stack.name + ".sock")
        self.socket_file.unlink(missing_ok=True)  # left by the previous repetition's server
        self.unix = f"unix:{self.socket_file}"
        started = time.perf_counter()
        self.proc = _python(
            "-m", "bench.http_stack_launch", stack.name, self.unix.removeprefix("unix:")
        )
        try:
            self.tcp = f"tcp:{self._bound_port()}"
            if stack.serves_http:
                wait_for(self._answers, timeout=START_TIMEOUT, what=f"{stack.name} to answer")
        except BaseException:
            _end(self.proc)
            raise
        self.start_ms = (time.perf_counter() - started) * 1000

    def _bound_port(self) -> int:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], START_TIMEOUT)
        words = self.proc.stdout.readline().split() if ready else []
        if len(words) != 2 or words[0] != "bound":
            _end(self.proc)
            error = self.proc.stderr.read().strip() if self.proc.stderr else ""
            last = error.splitlines()[-1] if error else f"exit status {self.proc.returncode}"
            raise BenchError(f"{self.stack.name} did not start: {last}")
        return int(words[1])

    def _answers(self) -> bool:
        try:
            one_call(self.unix)
            one_call(self.tcp)
        except (OSError, BenchError):
            return False
        return True

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise BenchError(f"no VmRSS for {self.stack.name}'s server")

    def close(self) -> None:
        _end(self.proc)
        self.socket_file.unlink(missing_ok=True)


def throughput(address: str, clients: int, plan: Plan) -> float:
    """Requests per second from `clients` keep-alive client processes started together."""
    start_at = time.time() + 0.5 + 0.1 * clients
    args = (address, repr(start_at), repr(plan.load_seconds), str(plan.load_max_requests))
    procs = [_python("-m", "bench.http_stack_client", *args) for _ in range(clients)]
    reports: list[tuple[int, float, float]] = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=plan.load_seconds + CLIENT_GRACE)
            words = out.split()
            if proc.returncode != 0 or len(words) != 3:
                raise BenchError(f"a load client on {address} failed: {err.strip()[-400:]}")
            reports.append((int(words[0]), float(words[1]), float(words[2])))
    except subprocess.TimeoutExpired:
        raise BenchError(f"a load client on {address} hung") from None
    finally:
        for proc in procs:
            _end(proc)
    span = max(end for _, _, end in reports) - min(began for _, began, _ in reports)
    return sum(count for count, _, _ in reports) / span


def measure(
    stack: Stack, plan: Plan, directory: Path, want_features: bool
) -> tuple[dict[str, list[float]], dict[str, str]]:
    """One repetition of every figure for one stack: {metric: samples}, {need: finding}."""
    imports = [import_once(stack) for _ in range(plan.import_samples)]
    figures: dict[str, list[float]] = {
        "import_asyncio_ms": [first for first, _ in imports],
        "import_ms": [second for _, second in imports],
    }
    server = Server(stack, directory)
    try:
        figures["start_ms"] = [server.start_ms]
        figures["rss_start_mib"] = [server.rss_mib()]
        if not stack.serves_http:
            return figures, {}
        for i in range(plan.warm_requests):
            one_call(server.unix if i % 2 == 0 else server.tcp)
        figures["rss_100_mib"] = [server.rss_mib()]
        found = features(server.unix, server.tcp) if want_features else {}
        for name, address in (("unix", server.unix), ("tcp", server.tcp)):
            samples = latencies(address, plan.latency_count, plan.latency_seconds)
            figures[f"latency_{name}_ms"] = [statistics.median(samples) * 1000]
        for clients in plan.clients:
            for name, address in (("unix", server.unix), ("tcp", server.tcp)):
                figures[f"rps_{clients}_{name}"] = [throughput(address, clients, plan)]
        streams = [stream_seconds(server.unix) for _ in range(plan.stream_samples)]
        figures["stream_ms"] = [statistics.median(streams) * 1000]
        return figures, found
    finally:
        server.close()


def missing(stack: Stack) -> str | None:
    distribution = DISTRIBUTIONS.get(stack.name)
    if distribution is None:
        return None
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return f"{distribution} is not installed (pip install {distribution})"
    return None


def run(stacks: list[Stack], plan: Plan, log: Any) -> tuple[dict[str, Any], bool]:
    """{stack: figures, features, problem}, and whether the run was interrupted."""
    interrupted = False
    results: dict[str, Any] = {
        stack.name: {"figures": {}, "features": {}, "problem": missing(stack)} for stack in stacks
    }
    directory = Path(tempfile.mkdtemp(prefix="httpstacks-"))
    try:
        _repeat(stacks, plan, directory, results, log)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: reporting what was measured", file=log)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return results, interrupted


def _repeat(
    stacks: list[Stack], plan: Plan, directory: Path, results: dict[str, Any], log: Any
) -> None:
    for repetition in range(plan.repetitions):
        for stack in stacks:
            entry = results[stack.name]
            if entry["problem"] is not None and entry["figures"] == {}:
                continue
            print(f"repetition {repetition + 1}/{plan.repetitions}: {stack.name}", file=log)
            try:
                figures, found = measure(stack, plan, directory, not entry["features"])
            except BenchError as exc:
                entry["problem"] = f"repetition {repetition + 1}: {exc}"
                print(f"  {stack.name}: {exc}", file=log)
                continue
            for metric, samples in figures.items():
                entry["figures"].setdefault(metric, []).extend(samples)
            entry["features"] = entry["features"] or found


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for distribution in sorted(set(DISTRIBUTIONS.values()) | {"multidict", "yarl"}):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[distribution] = importlib.metadata.version(distribution)
    return found


# --- the report ---------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "Start-up and memory": (
        "import_asyncio_ms",
        "import_ms",
        "start_ms",
        "rss_start_mib",
        "rss_100_mib",
    ),
    "One request on a new connection": ("latency_unix_ms", "latency_tcp_ms"),
    "Keep-alive throughput": ("rps_1_unix", "rps_4_unix", "rps_1_tcp", "rps_4_tcp"),
    "Streaming": ("stream_ms",),
}
LABELS = {
    "import_asyncio_ms": "import asyncio, ms",
    "import_ms": "import the stack after asyncio, ms ↓",
    "start_ms": "launch to first answers, ms ↓",  # for the baselines: to bound sockets
    "rss_start_mib": "RSS started, MiB ↓",
    "rss_100_mib": "RSS after 100 requests, MiB ↓",
    "latency_unix_ms": "unix, ms ↓",
    "latency_tcp_ms": "TCP, ms ↓",
    "rps_1_unix": "unix, 1 client, req/s ↑",
    "rps_4_unix": "unix, 4 clients, req/s ↑",
    "rps_1_tcp": "TCP, 1 client, req/s ↑",
    "rps_4_tcp": "TCP, 4 clients, req/s ↑",
    "stream_ms": "1 MiB chunked stream (unix), ms ↓",
}
NEEDS = (
    "unix socket",
    "TCP",
    "streaming",
    "SSE",
    "body limit",
    "head limit",
    "keep-alive timeout",
)


def _figure(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def _cell(samples: list[float] | None) -> str:
    if not samples:
        return ""
    middle = _figure(statistics.median(samples))
    if len(samples) == 1:
        return middle
    return f"{middle} ({_figure(min(samples))}–{_figure(max(samples))})"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


BASELINE = "asyncio-only"  # what every stack's cost is counted over: vigil blocks ssl


def _over_baseline(results: dict[str, Any]) -> list[str]:
    """What each stack adds to a process that has asyncio and its sockets (medians)."""
    base = results.get(BASELINE, {}).get("figures", {})
    if not base.get("rss_start_mib"):
        return []
    rows = []
    for name, entry in results.items():
        figures = entry["figures"]
        if name == BASELINE or not figures.get("rss_start_mib"):
            continue
        rss = statistics.median(figures["rss_start_mib"]) - statistics.median(base["rss_start_mib"])
        after = figures.get("rss_100_mib")
        more = statistics.median(after) - statistics.median(base["rss_start_mib"]) if after else 0
        rows.append([name, f"{rss:+.1f}", f"{more:+.1f}" if after else ""])
    header = ["stack", "RSS started, MiB", "RSS after 100 requests, MiB"]
    return [f"Over the {BASELINE} baseline (medians)", "", *_table(header, rows), ""]


def report(results: dict[str, Any]) -> str:
    lines: list[str] = []
    for title, metrics in COLUMNS.items():
        rows = []
        for name, entry in results.items():
            cells = [_cell(entry["figures"].get(metric)) for metric in metrics]
            if any(cells):
                rows.append([name, *cells])
        if not rows:
            continue
        lines += [
            f"{title}: median (min–max)",
            "",
            *_table(["stack", *(LABELS[metric] for metric in metrics)], rows),
            "",
        ]
    lines += _over_baseline(results)
    rows = [
        [name, *(entry["features"].get(need, "") for need in NEEDS)]
        for name, entry in results.items()
        if entry["features"]
    ]
    if rows:
        lines += ["What vigil needs, as checked", "", *_table(["stack", *NEEDS], rows), ""]
    for name, entry in results.items():
        if entry["problem"]:
            lines.append(f"- {name}: not measured: {entry['problem']}")
    return "\n".join(lines).rstrip() + "\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http_stacks",
        description="Measure candidate HTTP server stacks as vigil would use them.",
    )
    parser.add_argument("--quick", action="store_true", help="one repetition, smaller counts")
    parser.add_argument(
        "--repetitions", type=int, metavar="N", help="repetitions (3 for a full run, 1 quick)"
    )
    parser.add_argument(
        "--only", action="append", metavar="STACK", help=f"among {', '.join(STACKS)}"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH")
    args = parser.parse_args(argv)
    chosen = [n.strip() for item in args.only or [] for n in item.split(",") if n.strip()]
    unknown = sorted(set(chosen) - set(STACKS))
    if unknown:
        parser.error(f"unknown stack {', '.join(unknown)}: choose from {', '.join(STACKS)}")
    if args.repetitions is not None and not 1 <= args.repetitions <= 20:
        parser.error(f"--repetitions {args.repetitions}: choose from 1 to 20")
    args.stacks = [STACKS[name] for name in STACKS if not chosen or name in chosen]
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.repetitions is not None:
        plan = dataclasses.replace(plan, repetitions=args.repetitions)
    began = datetime.datetime.now(datetime.UTC)
    load_start = os.getloadavg()
    results, interrupted = run(args.stacks, plan, sys.stderr)
    document: dict[str, Any] = {
        "started": began.isoformat(timespec="seconds"),
        "seconds": round((datetime.datetime.now(datetime.UTC) - began).total_seconds(), 1),
        "command": " ".join(["python -m bench.http_stacks", *argv]),
        "interrupted": interrupted,
        "plan": asdict(plan),
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "kernel": f"{platform.system()} {platform.release()}",
            "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": versions(),
        "stacks": {stack.name: stack.note for stack in args.stacks},
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=1) + "\n")
    machine = document["machine"]
    print(
        f"{document['started']} ({document['seconds']} s), {machine['cpu']}, "
        f"{machine['cores']} cores, load {machine['load_average_start']} → "
        f"{machine['load_average_end']}; {document['versions']}\n"
    )
    print(report(results))
    print(f"results: {args.json}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
