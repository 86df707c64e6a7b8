"""A client process calling supervisor.getState in a loop: background traffic and throughput.

`python -m bench.loadclient SOCKET START_AT SECONDS` waits until the wall-clock instant
START_AT (so that several clients begin together), calls getState on one keep-alive
connection until SECONDS have passed or SIGTERM arrives, and prints how many calls succeeded
and failed. It prints `ready` after its first successful call, so that whoever needs the
traffic to be flowing can wait for it. It is a process of its own so that its work never
competes with the measuring loop for a GIL.
"""

from __future__ import annotations

import http.client
import signal
import sys
import time
import xmlrpc.client

from bench.rpc import RpcClient

FAILURE_PAUSE = 0.005


class Stop:
    """Set by SIGTERM: finish the call under way, then report."""

    requested = False

    @classmethod
    def request(cls, signum: int, frame: object) -> None:
        cls.requested = True


def run(socket_path: str, start_at: float, seconds: float) -> tuple[int, int]:
    client = RpcClient(socket_path, keep_alive=True, timeout=30.0)
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + seconds
    done = failed = 0
    while time.monotonic() < deadline and not Stop.requested:
        try:
            client.call("supervisor.getState")
        except (OSError, http.client.HTTPException, xmlrpc.client.Error):
            failed += 1
            time.sleep(FAILURE_PAUSE)
        else:
            done += 1
            if done == 1:
                print("ready", flush=True)
    client.close()
    return done, failed


def main(argv: list[str]) -> int:
    try:
        socket_path, start_at, seconds = argv[0], float(argv[1]), float(argv[2])
    except (IndexError, ValueError):
        print("usage: python -m bench.loadclient SOCKET START_AT SECONDS", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, Stop.request)
    done, failed = run(socket_path, start_at, seconds)
    print(done, failed, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
