"""vigil.childutils: the helpers of supervisor.childutils, checked against Supervisor's where
they format, and used for real by children of a vigil daemon over its unix socket and its
HTTP port."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import textwrap
from pathlib import Path

from tests.support import PY, reference_bin, running_daemon, wait_until
from vigil import childutils


def test_headers_and_eventdata() -> None:
    line = "ver:3.0 server:supervisor serial:21 pool:l poolserial:10 eventname:TICK_5 len:15\n"
    assert childutils.get_headers(line) == {
        "ver": "3.0",
        "server": "supervisor",
        "serial": "21",
        "pool": "l",
        "poolserial": "10",
        "eventname": "TICK_5",
        "len": "15",
    }
    headers, data = childutils.eventdata(
        "processname:p groupname:g pid:7 channel:stdout\nhi\nthere"
    )
    assert headers == {"processname": "p", "groupname": "g", "pid": "7", "channel": "stdout"}
    assert data == "hi\nthere"


def test_get_asctime_is_supervisors() -> None:
    moments = [0.0, 1_700_000_000.0, 1_700_000_000.5, 1_700_000_000.999, 1_234_567_890.0421]
    script = (
        "import json, sys; from supervisor.childutils import get_asctime; "
        "print(json.dumps([get_asctime(t) for t in json.loads(sys.argv[1])]))"
    )
    theirs = subprocess.run(
        [reference_bin("python"), "-c", script, json.dumps(moments)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [childutils.get_asctime(t) for t in moments] == json.loads(theirs.stdout)


def test_pcomm_wraps_text_in_capture_tokens_on_text_and_binary_streams() -> None:
    text = io.StringIO()
    childutils.pcomm.send("hello", text)
    assert text.getvalue() == "<!--XSUPERVISOR:BEGIN-->hello<!--XSUPERVISOR:END-->"
    binary = io.BytesIO()
    childutils.pcomm.send("h\u00e9", binary)  # type: ignore[arg-type]
    assert binary.getvalue() == "<!--XSUPERVISOR:BEGIN-->h\u00e9<!--XSUPERVISOR:END-->".encode()


def test_listener_results() -> None:
    out = io.StringIO()
    childutils.listener.ready(out)
    childutils.listener.ok(out)
    childutils.listener.fail(out)
    childutils.listener.send("\u00e9t\u00e9", out)
    assert out.getvalue() == "READY\nRESULT 2\nOKRESULT 4\nFAILRESULT 5\n\u00e9t\u00e9"


def test_wait_reads_len_characters_from_a_text_stdin() -> None:
    payload = "type:t\nh\u00e9llo \u2603 and more"
    raw = f"ver:3.0 server:s serial:1 pool:l poolserial:1 eventname:X len:{len(payload)}\n"
    stdin = io.TextIOWrapper(io.BytesIO((raw + payload + "ver:3.0 next").encode()), "utf-8")
    out = io.StringIO()
    headers, got = childutils.listener.wait(stdin, out)
    assert out.getvalue() == "READY\n"
    assert headers["len"] == str(len(payload)) and got == payload
    assert stdin.read() == "ver:3.0 next"  # nothing of the next event was taken


def test_wait_on_a_plain_text_stream_reads_characters() -> None:
    stdin = io.StringIO("ver:3.0 server:s serial:1 pool:l poolserial:1 eventname:X len:3\nabcdef")
    headers, got = childutils.listener.wait(stdin, io.StringIO())
    assert (headers["serial"], got) == ("1", "abc")


CLIENT = textwrap.dedent(
    """
    import json, os, sys
    from vigil import childutils
    rpc = childutils.getRPCInterface(os.environ)
    try:
        result = {"state": rpc.supervisor.getState(), "url": os.environ["SUPERVISOR_SERVER_URL"]}
    except Exception as exc:
        result = {"error": type(exc).__name__, "detail": str(exc)}
    with open(sys.argv[1], "w") as f:
        json.dump(result, f)
    """
)

LISTENER = textwrap.dedent(
    """
    import json, sys
    from vigil import childutils
    while True:
        headers, payload = childutils.listener.wait()
        with open(sys.argv[1], "a") as f:
            f.write(json.dumps([headers, payload]) + "\\n")
        childutils.listener.ok()
    """
)


def test_children_reach_the_daemon_over_its_socket_and_its_port(tmp_path: Path) -> None:
    (tmp_path / "client.py").write_text(CLIENT)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    body = f"""
        [inet_http_server]
        port=127.0.0.1:{port}
        username=user
        password=secret

        [program:unix]
        command={PY} {tmp_path}/client.py {tmp_path}/unix.json
        startsecs=0
        autorestart=false

        [program:http]
        command={PY} {tmp_path}/client.py {tmp_path}/http.json
        serverurl=http://127.0.0.1:{port}
        environment=SUPERVISOR_USERNAME="user",SUPERVISOR_PASSWORD="secret"
        startsecs=0
        autorestart=false

        [program:noauth]
        command={PY} {tmp_path}/client.py {tmp_path}/noauth.json
        serverurl=http://127.0.0.1:{port}
        startsecs=0
        autorestart=false
    """
    with running_daemon(tmp_path, body):
        results = {
            name: json.loads(
                wait_until(lambda n=name: (p := tmp_path / f"{n}.json").exists() and p.read_text())
            )
            for name in ("unix", "http", "noauth")
        }
    running = {"statecode": 1, "statename": "RUNNING"}
    assert results["unix"] == {"state": running, "url": f"unix://{tmp_path}/supervisor.sock"}
    assert results["http"] == {"state": running, "url": f"http://127.0.0.1:{port}"}
    assert results["noauth"]["error"] == "ProtocolError" and "401" in results["noauth"]["detail"]


def test_a_listener_built_on_childutils_reads_non_ascii_events_whole(tmp_path: Path) -> None:
    (tmp_path / "listener.py").write_text(LISTENER)
    record = tmp_path / "got.jsonl"
    body = f"""
        [eventlistener:l]
        command={PY} {tmp_path}/listener.py {record}
        events=REMOTE_COMMUNICATION
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        daemon.wait_state("l", "RUNNING")
        rpc = daemon.rpc()
        rpc.supervisor.sendRemoteCommEvent("t", "h\u00e9llo \u2603")
        rpc.supervisor.sendRemoteCommEvent("t", "plain")
        def complete() -> list[str]:
            text = record.read_text() if record.exists() else ""
            lines = text.splitlines()
            return lines if len(lines) == 2 and text.endswith("\n") else []

        lines = wait_until(complete, what="two complete records")
    (first, data1), (second, data2) = (json.loads(line) for line in lines)
    assert data1 == "type:t\nh\u00e9llo \u2603" and first["len"] == str(len(data1))
    assert data2 == "type:t\nplain" and second["serial"] == "1"
