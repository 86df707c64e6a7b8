"""A read-only account (readonly_username/readonly_password) on a daemonized daemon: it reads
everything over XML-RPC, JSON, log tails and the web page, and every way of acting (a method,
a multicall's inner call, a JSON action, the config diff, a web button) is refused, while the
full account still acts and a wrong password gets nothing."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import unix_proxy, wait_until
from vigil.config.errors import ConfigError
from vigil.config.loader import load

READER = ("viewer", "look")
ADMIN = ("admin", "s3cret")


def _auth(account: tuple[str, str]) -> dict[str, str]:
    token = base64.b64encode(f"{account[0]}:{account[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def port(tmp_path: Path, cleanup: Started) -> Iterator[int]:
    number = free_port()
    sha = hashlib.sha1(READER[1].encode()).hexdigest()
    conf = config(
        tmp_path,
        f"""
        [inet_http_server]
        port=127.0.0.1:{number}
        username={ADMIN[0]}
        password={ADMIN[1]}
        readonly_username={READER[0]}
        readonly_password={{SHA}}{sha}

        [program:sleeper]
        command=sleep 1000
        startsecs=0
        """,
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "sleeper"))
    yield number
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: not (tmp_path / "s.sock").exists(), what="the daemon's exit")


def _rpc(port: int, account: tuple[str, str]) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(f"http://{account[0]}:{account[1]}@127.0.0.1:{port}/RPC2")


def _http(
    port: int, method: str, path: str, account: tuple[str, str], body: bytes | None = None
) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = _auth(account)
        if body is not None:  # a form of the classic page
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_xml_rpc_reads_but_never_acts(port: int) -> None:
    reader = _rpc(port, READER)
    assert reader.supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING"
    assert "supervisor.stopProcess" in reader.system.listMethods()
    with pytest.raises(xmlrpc.client.Fault) as refused:
        reader.supervisor.stopProcess("sleeper")
    assert refused.value.faultCode == 100
    assert refused.value.faultString.startswith("UNAUTHORIZED: supervisor.stopProcess")
    calls = [
        {"methodName": "supervisor.getState", "params": []},
        {"methodName": "supervisor.stopProcess", "params": ["sleeper"]},
    ]
    state, fault = reader.system.multicall(calls)
    assert state["statename"] == "RUNNING"
    assert fault["faultCode"] == 100
    assert reader.supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING"
    assert _rpc(port, ADMIN).supervisor.stopProcess("sleeper") is True


def test_json_reads_but_never_acts(port: int) -> None:
    status, _, body = _http(port, "GET", "/api/v1/processes", READER)
    assert status == 200 and json.loads(body)[0]["state"] == "RUNNING"
    status, kind, body = _http(port, "POST", "/api/v1/processes/sleeper/stop", READER)
    assert (status, kind) == (403, "application/problem+json")
    assert json.loads(body)["fault"]["name"] == "UNAUTHORIZED"
    assert _http(port, "GET", "/api/v1/config/diff", READER)[0] == 200  # a look, not a reread
    assert _http(port, "POST", "/api/v1/config/apply", READER)[0] == 403
    assert _http(port, "POST", "/api/v1/processes/sleeper/stop", ADMIN)[0] == 200


def test_the_web_page_shows_no_controls_and_refuses_actions(port: int) -> None:
    status, _, page = _http(port, "GET", "/index.html", READER)
    assert status == 200 and b"sleeper" in page
    assert b"<form" not in page and b"Stop All" not in page
    assert b"<form" in _http(port, "GET", "/index.html", ADMIN)[2]
    # the dashboard's shell tells its scripts which account they act for
    assert b'name="vigil-access" content="read-only"' in _http(port, "GET", "/", READER)[2]
    assert b'name="vigil-access" content="full"' in _http(port, "GET", "/", ADMIN)[2]
    assert _http(port, "GET", "/index.html?processname=sleeper&action=stop", READER)[0] == 403
    form = b"processname=sleeper&action=stop&csrf_token=x"
    assert _http(port, "POST", "/index.html", READER, form)[0] == 403
    assert _rpc(port, ADMIN).supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING"


def test_log_tails_are_reads(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/logtail/sleeper", headers=_auth(READER))
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_a_wrong_password_gets_nothing(port: int) -> None:
    assert _http(port, "GET", "/api/v1/processes", (READER[0], "nope"))[0] == 401
    assert _http(port, "GET", "/", ("", ""))[0] == 401


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ("readonly_username=v\nreadonly_password=p\n", "without username and password"),
        ("username=a\npassword=b\nreadonly_username=v\n", "only one of readonly_username"),
        ("username=a\npassword=b\nreadonly_username=a\nreadonly_password=c\n", "same name"),
    ],
)
def test_bad_read_only_settings_are_named(tmp_path: Path, options: str, complaint: str) -> None:
    conf = tmp_path / "supervisord.conf"
    conf.write_text(f"[supervisord]\n[inet_http_server]\nport=127.0.0.1:9001\n{options}")
    with pytest.raises(ConfigError) as error:
        load(str(conf))
    assert complaint in str(error.value)
    assert "[inet_http_server]" in str(error.value)
