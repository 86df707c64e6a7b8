"""Small programs the readiness tests run under a daemon: each waits for a file the test
creates (so the test decides when the program is ready, instead of sleeping and hoping)."""

from __future__ import annotations

import textwrap
from pathlib import Path

# An HTTP server that listens only once `go` exists; /health answers 200, other paths 503.
HTTP_SERVER = textwrap.dedent(
    """
    import http.server, os, sys, time
    port, go = int(sys.argv[1]), sys.argv[2]
    while not os.path.exists(go):
        time.sleep(0.02)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)

# sd_notify by hand: STATUS first; READY=1 once `go` exists; WATCHDOG=1 every 0.1 s while
# `ping` exists; MESSAGE sent from a grandchild when `child` exists.
NOTIFY_PROGRAM = textwrap.dedent(
    """
    import os, socket, sys, time
    go, ping = sys.argv[1], sys.argv[2]
    address = os.environ["NOTIFY_SOCKET"]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def send(text):
        sock.sendto(text.encode(), address)

    send("STATUS=loading")
    while not os.path.exists(go):
        time.sleep(0.02)
    send("READY=1\\nSTATUS=serving " + os.environ.get("WATCHDOG_USEC", "-"))
    while True:
        if os.path.exists(ping):
            send("WATCHDOG=1")
        time.sleep(0.1)
    """
)


def script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
