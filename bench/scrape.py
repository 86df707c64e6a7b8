"""How long a /metrics scrape and a /api/v1/resources read take on a daemon of N programs.

    python -m bench.scrape [--programs 500] [--repeat 30]

One vigil daemon with N sleepers (bench.scale's fleet: minfds raised to hold them); once all
are RUNNING, each URL is fetched over the unix socket `repeat` times after one untimed fetch
(which loads prometheus-client), on a fresh connection each time as a scraper makes it. The
time is from sending the request to the last byte of the answer; the output is checked
(every program has its series). Prints the median, best and worst in milliseconds, and the
daemon's CPU seconds over a quiet second after the scrapes (0 at rest: nothing polls).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from pathlib import Path

import psutil

from bench.daemons import Side, workspace
from bench.scale_fleet import Fleet
from bench.waiting import BenchError

QUIET = 1.0  # seconds of rest measured after the scrapes


def fetch(sock: Path, path: str) -> tuple[float, bytes]:
    """Seconds for one GET on a new connection, and the body."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(30)
    try:
        client.connect(str(sock))
        started = time.perf_counter()
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while data := client.recv(1 << 20):
            chunks.append(data)
        elapsed = time.perf_counter() - started
    finally:
        client.close()
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise BenchError(f"GET {path}: {head[:200]!r}")
    return elapsed, body


def measure(sock: Path, path: str, repeat: int, check: bytes, count: int) -> list[float]:
    fetch(sock, path)  # the first loads what the route needs
    times = []
    for _ in range(repeat):
        elapsed, body = fetch(sock, path)
        if body.count(check) < count:
            raise BenchError(f"GET {path}: fewer than {count} {check!r} in the answer")
        times.append(elapsed * 1000)
    return times


def report(what: str, times: list[float]) -> None:
    print(
        f"{what:<28} median {statistics.median(times):6.1f} ms   "
        f"best {min(times):6.1f}   worst {max(times):6.1f}   ({len(times)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with workspace() as workdir, Fleet(Side.VIGIL, workdir, args.programs) as fleet:
        fleet.launch_timed()
        count = args.programs
        report(
            f"/metrics, {count} programs",
            measure(fleet.sock, "/metrics", args.repeat, b"vigil_process_up{", count),
        )
        report(
            "/metrics?compat=node_exporter",
            measure(
                fleet.sock, "/metrics?compat=node_exporter", args.repeat, b"node_supervisord_up{",
                count,
            ),
        )  # fmt: skip
        report(
            "/api/v1/resources",
            measure(fleet.sock, "/api/v1/resources", args.repeat, b'"processes":', count),
        )
        daemon = psutil.Process(fleet.pid)
        before = sum(daemon.cpu_times()[:2])
        time.sleep(QUIET)  # measuring rest: nothing to wait for
        after = sum(daemon.cpu_times()[:2])
        print(f"daemon CPU over {QUIET:g} s at rest after the scrapes: {after - before:.2f} s")


if __name__ == "__main__":
    main()
