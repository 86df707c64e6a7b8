"""The JSON API against a daemonized daemon, as a script or a dashboard uses it: reads agree with
XML-RPC, actions act (one process, a group, all), faults come back as problem+json with their
Supervisor name, logs read by offset, and the configuration is diffed and applied."""

from __future__ import annotations

import textwrap
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.client import call
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized, text_of
from tests.support import unix_proxy, wait_until
from vigil.ctl.client import SupervisorClient

PROGRAMS = """
[program:echo]
command=cat
startsecs=0

[program:hup]
command=sh -c 'trap "echo got HUP" HUP; while true; do sleep 0.05; done'
startsecs=0

[program:w]
command=sleep 1000
numprocs=2
process_name=w_%(process_num)s
startsecs=0
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A daemonized daemon shared by the module's tests; yields its socket."""
    tmp = tmp_path_factory.mktemp("api")
    conf = config(tmp, PROGRAMS)
    started = Started()
    started.append(start_daemonized(conf))
    try:
        for name in ("echo", "hup", "w:w_0", "w:w_1"):
            started.append(running_pid(conf, name))
        yield tmp / "s.sock"
    finally:
        unix_proxy(tmp / "s.sock").supervisor.shutdown()
        wait_until(lambda: not (tmp / "s.sock").exists(), what="the daemon's exit")
        started.end()


def test_the_daemon(daemon: Path) -> None:
    answer = call(daemon, "GET", "/daemon")
    assert (answer.status, answer.content_type) == (200, "application/json")
    document = answer.json()
    assert document["implementation"] == "vigil"
    assert document["state"] == "RUNNING"
    assert document["pid"] == unix_proxy(daemon).supervisor.getPID()


def test_processes_agree_with_xml_rpc(daemon: Path) -> None:
    documents = call(daemon, "GET", "/processes").json()
    infos = unix_proxy(daemon).supervisor.getAllProcessInfo()
    assert [(d["group"], d["name"]) for d in documents] == [(i["group"], i["name"]) for i in infos]
    for document, info in zip(documents, infos, strict=True):
        assert document["state"] == info["statename"]
        assert document["pid"] == (info["pid"] or None)
        assert int(document["started_at"]) == info["start"]
    one = call(daemon, "GET", "/processes/w:w_1").json()
    assert (one["namespec"], one["state"]) == ("w:w_1", "RUNNING")
    assert call(daemon, "GET", "/processes/echo").json()["namespec"] == "echo"
    groups = call(daemon, "GET", "/groups").json()
    assert [(g["name"], len(g["processes"])) for g in groups] == [("echo", 1), ("hup", 1), ("w", 2)]


def test_an_unknown_process_is_a_404_naming_the_fault(daemon: Path) -> None:
    answer = call(daemon, "GET", "/processes/nobody")
    assert (answer.status, answer.content_type) == (404, "application/problem+json")
    problem = answer.json()
    assert problem["fault"] == {"name": "BAD_NAME", "code": 10}
    assert problem["detail"] == "BAD_NAME: nobody"
    assert call(daemon, "POST", "/processes/nobody/start").json()["fault"]["name"] == "BAD_NAME"


def test_stop_and_start_one_a_group_and_all(daemon: Path) -> None:
    rpc = unix_proxy(daemon).supervisor
    answer = call(daemon, "POST", "/processes/w:w_0/stop")
    assert (answer.status, answer.json()) == (200, {"namespec": "w:w_0", "done": True})
    assert rpc.getProcessInfo("w:w_0")["statename"] == "STOPPED"
    again = call(daemon, "POST", "/processes/w:w_0/stop")
    assert (again.status, again.json()["fault"]["name"]) == (409, "NOT_RUNNING")
    group = call(daemon, "POST", "/processes/w:*/start").json()
    assert group["results"] == [
        {"namespec": "w:w_0", "status": "SUCCESS", "done": True, "description": "OK"}
    ]
    before = rpc.getProcessInfo("w:w_1")["pid"]
    restarted = call(daemon, "POST", "/processes/w:w_1/restart")
    assert restarted.json() == {
        "namespec": "w:w_1",
        "done": True,
        "stopped": {"namespec": "w:w_1", "done": True},
    }
    assert rpc.getProcessInfo("w:w_1")["pid"] not in (0, before)
    everything = call(daemon, "POST", "/processes/all/start", {"wait": False}).json()
    assert everything == {"namespec": "all", "results": []}  # all were running already
    busy = call(daemon, "POST", "/processes/echo/start")
    assert (busy.status, busy.json()["fault"]["name"]) == (409, "ALREADY_STARTED")


def test_signal_and_stdin(daemon: Path) -> None:
    rpc = unix_proxy(daemon).supervisor
    assert call(daemon, "POST", "/processes/hup/signal", {"signal": "HUP"}).status == 200
    wait_until(lambda: "got HUP" in rpc.readProcessStdoutLog("hup", 0, 0), what="HUP handled")
    bad = call(daemon, "POST", "/processes/hup/signal?signal=NOPE")
    assert (bad.status, bad.json()["fault"]["name"]) == (400, "BAD_SIGNAL")
    missing = call(daemon, "POST", "/processes/hup/signal")
    assert missing.status == 400 and "signal is required" in missing.json()["detail"]
    assert call(daemon, "POST", "/processes/echo/stdin", {"data": "hello api\n"}).status == 200
    wait_until(lambda: "hello api" in rpc.readProcessStdoutLog("echo", 0, 0), what="echoed")


def test_clearing_logs(daemon: Path) -> None:
    rpc = unix_proxy(daemon).supervisor
    call(daemon, "POST", "/processes/echo/stdin", {"data": "to be cleared\n"})
    wait_until(lambda: "to be cleared" in rpc.readProcessStdoutLog("echo", 0, 0), what="logged")
    assert call(daemon, "POST", "/processes/echo/clear").json() == {
        "namespec": "echo",
        "done": True,
    }
    assert rpc.readProcessStdoutLog("echo", 0, 0) == ""
    group = call(daemon, "POST", "/processes/w:*/clear")
    assert group.json() == {
        "namespec": "w:*",
        "results": [
            {"namespec": f"w:w_{n}", "status": "SUCCESS", "done": True, "description": "OK"}
            for n in (0, 1)
        ],
    }


def test_logs_by_offset(daemon: Path) -> None:
    call(daemon, "POST", "/processes/echo/stdin", {"data": "0123456789\n"})
    rpc = unix_proxy(daemon).supervisor
    wait_until(lambda: "0123456789" in rpc.readProcessStdoutLog("echo", 0, 0), what="written")
    tail = call(daemon, "GET", "/processes/echo/log/stdout?offset=-5")
    assert (tail.status, tail.body) == (200, b"6789\n")
    head = call(daemon, "GET", "/processes/echo/log/stdout?offset=0&length=5").body
    assert head == rpc.readProcessStdoutLog("echo", 0, 5).encode()
    assert call(daemon, "GET", "/processes/echo/log/stdxxx").status == 404
    assert call(daemon, "GET", "/processes/echo/log/stdout?offset=x").status == 400
    main = call(daemon, "GET", "/log?offset=-200")
    assert main.status == 200 and b"0123456789" in main.body  # debug: output is logged


def test_unknown_routes_and_methods(daemon: Path) -> None:
    unknown = call(daemon, "GET", "/nothing/here")
    assert (unknown.status, unknown.content_type) == (404, "application/problem+json")
    assert call(daemon, "DELETE", "/processes").status == 405
    assert call(daemon, "POST", "/processes/echo/explode").status == 404
    not_json = call(daemon, "POST", "/processes/echo/stop", None, **{"Content-Type": "x"})
    assert not_json.status in (200, 409)  # no body is fine
    spec = call(daemon, "GET", "/openapi.json").json()
    assert spec["openapi"] == "3.1.0" and "/processes/{namespec}/{action}" in spec["paths"]


def test_config_diff_and_apply(tmp_path: Path, cleanup: Started) -> None:
    conf = config(tmp_path, "[program:one]\ncommand=sleep 1000\nstartsecs=0\n")
    cleanup.append(start_daemonized(conf))
    sock = tmp_path / "s.sock"
    cleanup.append(running_pid(conf, "one"))
    assert call(sock, "GET", "/config/diff").json() == {
        "added": [],
        "changed": [],
        "removed": [],
        "update_in_place": False,
        "groups": [],
    }
    conf.write_text(
        text_of(conf).replace("[program:one]", "[program:two]")
        + textwrap.dedent("[program:three]\ncommand=sleep 1000\nstartsecs=0\n")
    )
    assert call(sock, "GET", "/config/diff").json() == {
        "added": ["three", "two"],
        "changed": [],
        "removed": ["one"],
        "update_in_place": False,
        "groups": [],
    }
    # the diff only looked: the daemon has not taken the new file as read (no reread)
    try:
        unix_proxy(sock).supervisor.addProcessGroup("two")
    except xmlrpc.client.Fault as fault:
        assert fault.faultString == "BAD_NAME: two"
    else:
        raise AssertionError("addProcessGroup found a group only a reread would know")
    applied = call(sock, "POST", "/config/apply").json()
    assert applied == {
        "added": [{"group": "three"}, {"group": "two"}],
        "changed": [],
        "removed": [{"group": "one"}],
    }
    names = [p["name"] for p in call(sock, "GET", "/processes").json()]
    assert names == ["three", "two"]
    for name in names:
        cleanup.append(running_pid(conf, name))
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def test_supervisorctl_reads_a_vigil_daemon_through_the_json_api(daemon: Path) -> None:
    """The same records as getAllProcessInfo, only cheaper to decode; `now` and uptimes may
    have moved on by a second between the two reads."""
    client = SupervisorClient(f"unix://{daemon}", None, None)
    try:
        over_xml = client.call("supervisor.getAllProcessInfo")
        assert client.server.startswith("vigil/")
        over_json = client.all_process_info()
    finally:
        client.close()
    assert isinstance(over_xml, list) and isinstance(over_json, list)
    moving = ("now", "description")
    assert [{k: v for k, v in i.items() if k not in moving} for i in over_json] == [
        {k: v for k, v in i.items() if k not in moving} for i in over_xml
    ]
    assert [sorted(i) for i in over_json] == [sorted(i) for i in over_xml]


def test_actions_refuse_what_another_site_would_make_a_browser_send(daemon: Path) -> None:
    """Cached Basic credentials ride along with any cross-site request, so the actions refuse
    those a browser marks as cross-site, and the bodies a plain HTML form can send."""
    rpc = unix_proxy(daemon).supervisor
    pid = rpc.getProcessInfo("w:w_0")["pid"]
    for headers in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "text/plain;charset=UTF-8"},
        {"Content-Type": "multipart/form-data; boundary=x"},
    ):
        answer = call(daemon, "POST", "/processes/w:w_0/stop", None, **headers)
        assert answer.status == 403, headers
        assert answer.content_type == "application/problem+json"
        assert answer.json()["detail"]
    assert rpc.getProcessInfo("w:w_0")["pid"] == pid  # nothing was done
    # the dashboard's own requests: same origin, JSON
    same = call(
        daemon,
        "POST",
        "/processes/w:w_0/signal",
        {"signal": "CONT"},
        **{"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"},
    )
    assert same.status == 200
    origin = call(
        daemon,
        "POST",
        "/processes/w:w_0/signal",
        {"signal": "CONT"},
        Origin="http://localhost",
        Host="localhost",
    )
    assert origin.status == 200
    # reading is never refused
    assert call(daemon, "GET", "/processes/w:w_0", None, Origin="http://evil.example").status == 200
