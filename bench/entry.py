"""What every benchmark command does around its run: SIGTERM taken as Ctrl-C, a run that
cannot start exits 2, an interrupted one ends every process started and exits 130; and the
progress lines and timestamps they share.
"""

from __future__ import annotations

import argparse
import datetime
import signal
import sys
from collections.abc import Callable
from types import FrameType

from bench.processes import end_descendants
from bench.waiting import BenchError


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main_of(
    prog: str,
    parse_args: Callable[[list[str]], argparse.Namespace],
    run: Callable[[argparse.Namespace, list[str]], int],
    argv: list[str] | None,
) -> int:
    """A command's `main`: parse `argv` (default sys.argv[1:]), then run it with SIGTERM
    raising KeyboardInterrupt; BenchError → exit 2, KeyboardInterrupt → exit 130."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(args, argv)
    except BenchError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        end_descendants()
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
