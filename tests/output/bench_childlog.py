"""How fast child output reaches its log: ChildLog against the bare minimum.

A real child writes ``total`` bytes into a real pipe; the parent reads it in 64 KiB chunks as
the runtime does and hands each chunk to the sink under test. The baselines are a bare
``os.read``/``os.write`` loop and ``os.splice`` (pipe to file inside the kernel).

Run: ``python -m tests.output.bench_childlog [megabytes]`` from the repository root.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vigil.config.model import LogLevel
from vigil.services.childlog import ChildLog, ChildLogSettings

READ_SIZE = 65536
Drain = Callable[[int], None]  # empties a pipe (by its fd) into the sink under test
BLOCK = bytes(range(256)) * 256  # 64 KiB with every byte value, ESC and "<" included


class _NullLog:
    def log(self, level: LogLevel, message: str) -> None:
        pass


def _child(total: int) -> subprocess.Popen[bytes]:
    code = (
        "import os, sys\n"
        "block = bytes(range(256)) * 256\n"
        "left = int(sys.argv[1])\n"
        "while left > 0:\n"
        "    piece = block[:left]\n"
        "    view = memoryview(piece)\n"
        "    while view:\n"
        "        view = view[os.write(1, view):]\n"
        "    left -= len(piece)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, str(total)], stdout=subprocess.PIPE)


def expected_output(total: int) -> bytes:
    return (BLOCK * (total // len(BLOCK) + 1))[:total]


def _timed(total: int, drain: Callable[[int], None]) -> float:
    child = _child(total)
    assert child.stdout is not None
    started = time.perf_counter()
    drain(child.stdout.fileno())
    elapsed = time.perf_counter() - started
    child.stdout.close()
    child.wait()
    return elapsed


def _read_write_loop(out: int) -> Callable[[int], None]:
    def drain(fd: int) -> None:
        while data := os.read(fd, READ_SIZE):
            view = memoryview(data)
            while view:
                view = view[os.write(out, view) :]

    return drain


def _splice_loop(out: int) -> Callable[[int], None]:
    def drain(fd: int) -> None:
        while os.splice(fd, out, READ_SIZE):
            pass

    return drain


def _child_log_loop(log: ChildLog) -> Callable[[int], None]:
    def drain(fd: int) -> None:
        while data := os.read(fd, READ_SIZE):
            log.write(data)
        log.close()

    return drain


def _child_log(path: Path, **options: object) -> ChildLog:
    values: dict[str, object] = {"name": "bench", "channel": "stdout", "path": str(path)}
    values.update(options)
    return ChildLog(ChildLogSettings(**values), _NullLog())  # type: ignore[arg-type]


CHILD_LOG_VARIANTS: dict[str, dict[str, object]] = {
    "ChildLog": {},
    "ChildLog, rotating at 10 MB": {"maxbytes": 10 * 1024 * 1024, "backups": 50},
    "ChildLog, strip_ansi": {"strip_ansi": True},
    "ChildLog, capture mode": {"capture_maxbytes": 1024 * 1024},
}


def measure(total: int, directory: Path, repeats: int = 3) -> dict[str, tuple[float, Path]]:
    """Best time of ``repeats`` for each way, and the file it wrote (for checking)."""
    results: dict[str, tuple[float, Path]] = {}

    def run(name: str, make: Callable[[Path], Drain]) -> None:
        best = float("inf")
        path = directory / f"{len(results)}.log"
        for _ in range(repeats):
            for old in directory.glob(f"{path.name}*"):
                old.unlink()
            best = min(best, _timed(total, make(path)))
        results[name] = (best, path)

    def raw(loop: Callable[[int], Drain]) -> Callable[[Path], Drain]:
        def make(path: Path) -> Drain:
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            inner = loop(out)

            def drain(fd: int) -> None:
                try:
                    inner(fd)
                finally:
                    os.close(out)

            return drain

        return make

    run("os.read/os.write loop", raw(_read_write_loop))
    if hasattr(os, "splice"):
        run("os.splice loop", raw(_splice_loop))
    for name, options in CHILD_LOG_VARIANTS.items():

        def make(path: Path, options: dict[str, object] = options) -> Drain:
            return _child_log_loop(_child_log(path, **options))

        run(name, make)
    return results


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    total = megabytes * 1024 * 1024
    with tempfile.TemporaryDirectory() as directory:
        results = measure(total, Path(directory))
        for name, (seconds, _) in results.items():
            rate = total / seconds / 1e6
            print(f"{name:32} {seconds:7.3f} s  {rate:8.0f} MB/s")


if __name__ == "__main__":
    main()
