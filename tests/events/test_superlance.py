"""Supervisor's own event listener plugins (superlance: crashmail, memmon, httpok) run
unchanged under vigil, talking to it over the unix socket named in SUPERVISOR_SERVER_URL."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

from tests.support import PY, reference_bin, running_daemon, wait_until

# A stand-in for sendmail: what would be mailed is written to the file named by its argument.
SENDMAIL = textwrap.dedent(
    """
    import sys
    data = sys.stdin.read()
    with open(sys.argv[1], "a") as f:
        f.write(data)
    """
)


def test_crashmail_mails_when_a_program_exits_unexpectedly(tmp_path: Path) -> None:
    (tmp_path / "sendmail.py").write_text(SENDMAIL)
    mail = tmp_path / "mail.txt"
    sendmail = f"{PY} {tmp_path / 'sendmail.py'} {mail}"
    body = f"""
        [eventlistener:crashmail]
        command={reference_bin("crashmail")} -a -o vigil-test -m dev@example.com -s "{sendmail}"
        events=PROCESS_STATE_EXITED

        [program:crashy]
        command=/bin/sh -c 'sleep 0.2; exit 3'
        startsecs=0
        autorestart=false
        autostart=false

        [program:clean]
        command=/bin/sh -c 'sleep 0.2; exit 0'
        startsecs=0
        autorestart=false
        autostart=false
    """
    with running_daemon(tmp_path, body) as daemon:
        daemon.wait_state("crashmail", "RUNNING")
        rpc = daemon.rpc()
        rpc.supervisor.startProcess("clean")
        daemon.wait_state("clean", "EXITED")
        rpc.supervisor.startProcess("crashy")
        pid = daemon.info("crashy")["pid"]
        daemon.wait_state("crashy", "EXITED")
        text = wait_until(lambda: mail.exists() and mail.read_text(), what="a mail")
        assert daemon.info("crashmail")["statename"] == "RUNNING"
    lines = text.splitlines()
    assert lines[0] == "To: dev@example.com"
    assert lines[1].startswith("Subject: vigil-test: crashy crashed at ")
    assert lines[3] == (
        f"Process crashy in group crashy exited unexpectedly (pid {pid}) from state RUNNING"
    )
    assert "clean" not in text  # an expected exit is not mailed


def test_memmon_restarts_a_program_that_grows_past_its_limit(tmp_path: Path) -> None:
    grower = f"{PY} -c 'import time; hog = b\"x\" * (64 << 20); time.sleep(600)'"
    body = f"""
        [eventlistener:memmon]
        command={reference_bin("memmon")} -p grower=20MB
        events=TICK_5

        [program:grower]
        command={grower}
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        first = daemon.wait_state("grower", "RUNNING")["pid"]
        wait_until(
            lambda: daemon.info("grower")["pid"] not in (0, first),
            timeout=30,
            what="memmon to restart grower",
        )
        stderr = Path(daemon.rpc().supervisor.getProcessInfo("memmon")["stderr_logfile"])
    assert "Restarting grower" in stderr.read_text()


def test_httpok_restarts_a_program_whose_url_stops_answering(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a free loopback port for the web program
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broken = tmp_path / "broken"
    server = tmp_path / "server.py"
    server.write_text(
        textwrap.dedent(
            f"""
            import http.server, os
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(500 if os.path.exists({str(broken)!r}) else 200)
                    self.end_headers()
                    self.wfile.write(b"hello")
            http.server.HTTPServer.allow_reuse_address = True
            http.server.HTTPServer(("127.0.0.1", {port}), Handler).serve_forever()
            """
        )
    )
    body = f"""
        [eventlistener:httpok]
        command={reference_bin("httpok")} -p web -t 5 http://127.0.0.1:{port}/
        events=TICK_5

        [program:web]
        command={PY} {server}
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        first = daemon.wait_state("web", "RUNNING")["pid"]
        broken.touch()
        wait_until(
            lambda: daemon.info("web")["pid"] not in (0, first),
            timeout=30,
            what="httpok to restart web",
        )
        stderr = Path(daemon.rpc().supervisor.getProcessInfo("httpok")["stderr_logfile"])
        text = wait_until(lambda: "web restarted" in (t := stderr.read_text()) and t)
    assert "web is in RUNNING state, restarting" in text
