"""vigil's XML-RPC API against Supervisor 4.3.0's, continued: remote communication events,
configuration info and listeners, requests as they come on the wire, and priority order (see
test_xmlrpc_compat.py for how the transcripts are compared)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.compat.support import (
    DEADLINE,
    TALKER,
    Recorder,
    by_name,
    http_exchange,
    run_differential,
)
from tests.support import wait_until

RECORDER = """\
import sys
with open(sys.argv[1], "a") as record:
    while True:
        sys.stdout.write("READY\\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        header = dict(token.split(":", 1) for token in line.split())
        payload = sys.stdin.read(int(header["len"]))
        record.write(f"{header['eventname']} {header['len']}\\n{payload}\\n")
        record.flush()
        sys.stdout.write("RESULT 2\\nOK")
        sys.stdout.flush()
"""

REMOTE = """
[eventlistener:recorder]
command={py} -u {tmp}/recorder.py {tmp}/events
events=REMOTE_COMMUNICATION
startsecs=0
"""


def test_remote_communication_event(tmp_path: Path) -> None:
    def scenario(rec: Recorder) -> None:
        rec.wait_state("recorder", "RUNNING")
        events = rec.side.tmp / "events"
        rec.call("supervisor.sendRemoteCommEvent", "type", "data")
        rec.call("supervisor.sendRemoteCommEvent", "t\u00ffpe", "d\u00e4ta\nmore")
        rec.call("supervisor.sendRemoteCommEvent", "", "")
        rec.call("supervisor.sendRemoteCommEvent", "type")
        # regression: any value is sent as 4.3.0 formats it (it was INCORRECT_PARAMETERS)
        assert rec.call("supervisor.sendRemoteCommEvent", "type", 12.5) is True
        wait_until(
            lambda: events.exists() and events.read_text().count("REMOTE_COMMUNICATION") == 4,
            DEADLINE,
            "four events received",
        )
        rec.record("received", events.read_text())

    run_differential(tmp_path, REMOTE, scenario, scripts={"recorder.py": RECORDER})


LISTENER = """\
import sys
while True:
    sys.stdout.write("READY\\n")
    sys.stdout.flush()
    header = dict(token.split(":", 1) for token in sys.stdin.readline().split())
    sys.stdin.read(int(header["len"]))
    sys.stdout.write("RESULT 2\\nOK")
    sys.stdout.flush()
"""

OPTIONS = """
[program:opts]
command=sleep 600
directory={tmp}
priority=7
autostart=false
autorestart=true
startsecs=3
startretries=5
exitcodes=0,2
stopsignal=INT
stopwaitsecs=4
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile={tmp}/opts.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=3
stdout_capture_maxbytes=2KB
stdout_events_enabled=true
stdout_syslog=true
serverurl=http://127.0.0.1:9999
umask=022
environment=A="1",B="2"

[program:autos]
command=sleep 600
autostart=false
serverurl=AUTO
stderr_logfile_maxbytes=0
stderr_events_enabled=true
stderr_capture_maxbytes=1MB
stderr_syslog=true

[program:member]
command=sleep 600
autostart=false
priority=3

[group:team]
programs=member
priority=300

[eventlistener:listener]
command={py} -u {tmp}/listener.py
events=PROCESS_STATE
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
"""


def test_configuration_info_and_listeners(tmp_path: Path) -> None:
    def scenario(rec: Recorder) -> None:
        for name in ("listener:listener_0", "listener:listener_1"):
            rec.wait_state(name, "RUNNING")
        rec.call("supervisor.getAllConfigInfo")
        rec.call("supervisor.getAllProcessInfo")
        rec.call("supervisor.getProcessInfo", "listener:listener_1")
        rec.call("supervisor.getProcessInfo", "listener")
        rec.call("supervisor.startProcess", "team:member")
        rec.call("supervisor.stopProcessGroup", "listener", view=by_name)
        rec.call("supervisor.startProcess", "listener:*")
        rec.call("supervisor.reloadConfig")

    run_differential(tmp_path, OPTIONS, scenario, scripts={"listener.py": LISTENER})


def method_call(name: str, *values: str) -> bytes:
    """An XML-RPC request written by hand, with each parameter's <value> as given."""
    params = "".join(f"<param><value>{value}</value></param>" for value in values)
    return (
        f"<?xml version='1.0'?><methodCall><methodName>{name}</methodName>"
        f"<params>{params}</params></methodCall>"
    ).encode()


def test_requests_on_the_wire(tmp_path: Path) -> None:
    """What clients that write their own XML send: untyped values, base64, no <params>."""

    def scenario(rec: Recorder) -> None:
        rec.wait_log("talker", "hello stdout")

        def exchange(label: str, method: str, path: str, body: bytes | None = None) -> None:
            rec.record(label, http_exchange(rec.daemon.sock, method, path, body))

        version = method_call("supervisor.getAPIVersion")
        exchange("GET", "GET", "/RPC2")
        exchange("PUT", "PUT", "/RPC2", version)
        exchange("not XML", "POST", "/RPC2", b"garbage")
        exchange("no methodName", "POST", "/RPC2", b"<methodCall><params/></methodCall>")
        exchange("empty methodName", "POST", "/RPC2", method_call(""))
        exchange("under /RPC2", "POST", "/RPC2/anything", version)
        exchange("without <params>", "POST", "/RPC2", version.replace(b"<params></params>", b""))
        read = "supervisor.readProcessStdoutLog"
        exchange("untyped", "POST", "/RPC2", method_call(read, "talker", "6", "6"))
        exchange(
            "typed",
            "POST",
            "/RPC2",
            method_call(read, "<string>talker</string>", "<i4>0</i4>", "<int>5</int>"),
        )
        exchange(
            "double offset",
            "POST",
            "/RPC2",
            method_call(read, "talker", "<double>6.0</double>", "<int>6</int>"),
        )
        exchange(
            "base64 to stdin",
            "POST",
            "/RPC2",
            method_call("supervisor.sendProcessStdin", "talker", "<base64>aGkK</base64>"),
        )
        rec.wait_log("talker", "echo: hi")
        exchange(
            "integer wait",
            "POST",
            "/RPC2",
            method_call("supervisor.stopProcess", "talker", "<int>0</int>"),
        )
        rec.wait_state("talker", "STOPPED")
        exchange("nosuch page", "GET", "/nosuch")
        exchange("log of nosuch", "GET", "/logtail/nosuch")
        exchange("main log by POST", "POST", "/mainlogtail")

    talker = "[program:talker]\ncommand={py} -u {tmp}/talker.py\nstartsecs=0\n"
    run_differential(tmp_path, talker, scenario, scripts={"talker.py": TALKER})


PRIORITIES = """
[group:g2]
programs=x2
priority=10

[program:x2]
process_name=x
command=sleep 600
startsecs=0
autostart=false

[group:g1]
programs=x1
priority=20

[program:x1]
process_name=x
command=sleep 600
startsecs=0
autostart=false

[program:b]
command=sleep 600
startsecs=0
priority=5
autostart=false

[program:a]
command=sleep 600
startsecs=0
priority=50
autostart=false
"""

MORE_PRIORITIES = """
[program:zz]
command=sleep 600
priority=1
autostart=false

[program:yy]
command=sleep 600
priority=100
autostart=false

[program:mm]
command=sleep 600
autostart=false
"""


def test_priority_order(tmp_path: Path) -> None:
    """Orders that follow priorities (ties in file order) or names, wherever they show."""

    def scenario(rec: Recorder) -> None:
        rec.call("supervisor.getAllConfigInfo", view=names)
        rec.call("supervisor.startAllProcesses", False)
        for name in ("a", "b", "g1:x", "g2:x"):
            rec.wait_state(name, "RUNNING")
        rec.call("supervisor.getAllProcessInfo", view=names)
        rec.call("supervisor.signalAllProcesses", "WINCH")
        rec.call("supervisor.stopAllProcesses", view=by_name)
        rec.edit_config(PRIORITIES, PRIORITIES.replace("600", "601") + MORE_PRIORITIES)
        rec.call("supervisor.reloadConfig")
        rec.call("supervisor.getAllConfigInfo", view=names)

    run_differential(tmp_path, PRIORITIES, scenario)


def names(infos: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(info["group"], info["name"]) for info in infos]
