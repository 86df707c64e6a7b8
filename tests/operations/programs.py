"""Programs the operations tests run under a daemon, and a client that keeps asking them."""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# An HTTP server on a port it shares with its siblings (SO_REUSEPORT): it answers its
# instance number. It exits at once, before listening, while the file `fail_<num>` exists
# in its directory (the test makes an instance fail to come back). On SIGTERM it closes its
# listener, finishes the request it is answering, and exits.
SHARED_PORT_SERVER = textwrap.dedent(
    """
    import os, signal, socket, sys
    port, num, where = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if os.path.exists(os.path.join(where, "fail_" + num)):
        sys.exit(3)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)

    def stop(number, frame):
        listener.close()  # the request being answered is finished, then accept() fails

    signal.signal(signal.SIGTERM, stop)
    body = ("instance " + num).encode()
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            break
        with connection:
            connection.settimeout(5)
            try:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%s" % (len(body), body)
                )
            except OSError:
                pass
    """
)


def write_server(tmp_path: Path) -> Path:
    path = tmp_path / "server.py"
    path.write_text(SHARED_PORT_SERVER)
    return path


@dataclass
class Tally:
    answered: int = 0
    refused: int = 0  # no listener on the port at all
    other: list[str] = field(default_factory=list)  # anything else that went wrong
    instances: set[str] = field(default_factory=set)


class Client:
    """A thread that sends requests to the port, one connection each, without pause, until
    stopped; what each got is counted."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.tally = Tally()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Client:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def wait_answers(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        target = self.tally.answered + count
        while self.tally.answered < target:
            assert time.monotonic() < deadline, f"fewer than {count} answers in {timeout} s"
            time.sleep(0.01)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    answer = b""
                    while chunk := sock.recv(65536):
                        answer += chunk
            except ConnectionRefusedError:
                self.tally.refused += 1
                continue
            except OSError as exc:
                self.tally.other.append(repr(exc))
                continue
            if answer.startswith(b"HTTP/1.0 200"):
                self.tally.answered += 1
                self.tally.instances.add(answer.rpartition(b"\r\n\r\n")[2].decode())
            else:
                self.tally.other.append(repr(answer[:80]))
