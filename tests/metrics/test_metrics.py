"""/metrics against a daemonized daemon and real programs, parsed with prometheus-client's own
parser: a program holding 64 MiB shows it, one that crashed three times shows three restarts,
a program's descendants are counted, the state series follow a stop, the JSON API's figures and
history agree, and a scrape leaves the daemon idle."""

from __future__ import annotations

import base64
import platform
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

import vigil
from tests.api.client import call, get
from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import PY, unix_proxy, wait_until

MIB = 1024 * 1024
# touches every page of 64 MiB, then says so and sleeps
HOLDER = (
    f"{PY} -c \"b = bytearray(64 * {MIB}); b[::4096] = b'x' * len(b[::4096]); "
    "print('holding', flush=True); import time; time.sleep(1000)\""
)
PROGRAMS = f"""
[program:holder]
command={HOLDER}
startsecs=0

[program:tree]
command=sh -c 'sleep 1001 & sleep 1002 & wait'
startsecs=0

[program:crasher]
command=sh -c 'n=$(cat crashes 2>/dev/null || echo 0); echo $((n+1)) > crashes; [ "$n" -ge 3 ] && exec sleep 1000; echo crash $n; exit 3'
directory=%(here)s
startsecs=0
autorestart=unexpected
startretries=10

[program:quiet]
command=sleep 1000
startsecs=0
"""  # noqa: E501

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(sock: Path, query: str = "") -> str:
    answer = get(sock, "/metrics" + query)
    assert answer.status == 200, answer.body
    assert answer.content_type.startswith("text/plain; version=0.0.4")
    return answer.body.decode()


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, metric: str, **labels: str) -> float:
    return found[(metric, tuple(sorted(labels.items())))]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("metrics")
    conf = config(tmp, PROGRAMS)
    started = Started()
    started.append(start_daemonized(conf))
    try:
        for name in ("holder", "tree", "quiet"):
            started.append(running_pid(conf, name))
        rpc = unix_proxy(tmp / "s.sock").supervisor
        wait_until(
            lambda: "holding" in rpc.readProcessStdoutLog("holder", 0, 0), what="64 MiB held"
        )

        def fourth_run() -> bool:
            crashes = tmp / "crashes"
            count = crashes.read_text().strip() if crashes.exists() else ""
            return count == "4" and rpc.getProcessInfo("crasher")["statename"] == "RUNNING"

        wait_until(fourth_run, what="the crasher's fourth run")
        yield tmp / "s.sock"
    finally:
        unix_proxy(tmp / "s.sock").supervisor.shutdown()
        wait_until(lambda: not (tmp / "s.sock").exists(), what="the daemon's exit")
        started.end()


def test_memory_descendants_and_restarts_are_those_of_the_real_processes(daemon: Path) -> None:
    found = samples(scrape(daemon))
    assert value(found, "vigil_process_resident_memory_bytes", name="holder", group="holder") > (
        64 * MIB
    )
    assert value(found, "vigil_process_tree_processes", name="tree", group="tree") == 3
    tree_pid = unix_proxy(daemon).supervisor.getProcessInfo("tree")["pid"]
    members = [psutil.Process(tree_pid), *psutil.Process(tree_pid).children(recursive=True)]
    main_rss = value(found, "vigil_process_main_resident_memory_bytes", name="tree", group="tree")
    tree_rss = value(found, "vigil_process_resident_memory_bytes", name="tree", group="tree")
    assert len(members) == 3 and tree_rss > main_rss > 0
    assert value(found, "vigil_process_restarts_total", name="crasher", group="crasher") == 3
    assert value(found, "vigil_process_exit_status", name="crasher", group="crasher") == 3
    assert value(found, "vigil_process_open_fds", name="tree", group="tree") >= 3 * 3
    assert value(found, "vigil_process_cpu_seconds_total", name="holder", group="holder") > 0
    written = value(
        found, "vigil_log_bytes_written_total", name="crasher", group="crasher", channel="stdout"
    )
    assert written == len(b"crash 0\ncrash 1\ncrash 2\n")
    (build,) = [(dict(key[1]), v) for key, v in found.items() if key[0] == "vigil_build_info"]
    assert build == ({"version": vigil.__version__, "supervisor_version": "4.3.0",
                      "python_version": platform.python_version()}, 1.0)  # fmt: skip


def test_the_state_series_follow_a_stop(daemon: Path) -> None:
    before = samples(scrape(daemon))
    assert value(before, "vigil_process_state", name="quiet", group="quiet", state="RUNNING") == 1
    assert value(before, "vigil_process_up", name="quiet", group="quiet") == 1
    unix_proxy(daemon).supervisor.stopProcess("quiet")
    after = samples(scrape(daemon))
    assert value(after, "vigil_process_state", name="quiet", group="quiet", state="RUNNING") == 0
    assert value(after, "vigil_process_state", name="quiet", group="quiet", state="STOPPED") == 1
    assert value(after, "vigil_process_up", name="quiet", group="quiet") == 0
    assert value(after, "vigil_process_tree_processes", name="quiet", group="quiet") == 0
    assert ("vigil_process_resident_memory_bytes", (("group", "quiet"), ("name", "quiet"))) not in (
        after
    )
    assert value(after, "vigil_events_total", type="PROCESS_STATE_STOPPED") >= 1
    unix_proxy(daemon).supervisor.startProcess("quiet")


def test_rpc_calls_are_counted_by_method_and_outcome(daemon: Path) -> None:
    proxy = unix_proxy(daemon).supervisor
    before = samples(scrape(daemon))
    key = {"method": "supervisor.getProcessInfo", "outcome": "BAD_NAME"}
    old = before.get(("vigil_rpc_requests_total", tuple(sorted(key.items()))), 0.0)
    for _ in range(3):
        with pytest.raises(Exception, match="BAD_NAME"):
            proxy.getProcessInfo("nobody")
    after = samples(scrape(daemon))
    assert value(after, "vigil_rpc_requests_total", **key) == old + 3
    assert value(after, "process_resident_memory_bytes") > 0  # the daemon's own, standard


def test_node_exporter_names_only_when_asked(daemon: Path) -> None:
    assert "node_supervisord_up" not in scrape(daemon)
    found = samples(scrape(daemon, "?compat=node_exporter"))
    assert value(found, "node_supervisord_up", name="holder", group="holder") == 1
    assert value(found, "node_supervisord_state", name="holder", group="holder") == 20
    info = unix_proxy(daemon).supervisor.getProcessInfo("holder")
    assert (
        value(found, "node_supervisord_start_time_seconds", name="holder", group="holder")
        == (info["start"])
    )
    assert value(found, "vigil_process_up", name="holder", group="holder") == 1
    bad = get(daemon, "/metrics?compat=other")
    assert bad.status == 400 and b"node_exporter" in bad.body


def test_the_json_api_shows_the_same_figures_and_the_history(daemon: Path) -> None:
    document = call(daemon, "GET", "/processes/holder").json()
    resources = document["resources"]
    assert set(resources) == {
        "cpu_percent", "cpu_seconds", "rss_bytes", "rss_bytes_main", "open_fds", "processes"
    }  # fmt: skip
    assert resources["rss_bytes"] > 64 * MIB and resources["processes"] == 1
    reading = call(daemon, "GET", "/resources").json()
    assert reading["processes"]["tree"]["processes"] == 3
    assert (
        reading["processes"]["tree"]["rss_bytes"] > reading["processes"]["tree"]["rss_bytes_main"]
    )
    assert isinstance(reading["processes"]["holder"]["cpu_percent"], float)
    assert "resources" not in call(daemon, "GET", "/processes/holder?resources=false").json()
    changes = call(daemon, "GET", "/processes/crasher/history").json()["changes"]
    exits = [c for c in changes if c["to"] == "EXITED"]
    assert len(exits) == 3
    assert exits[0]["exit"] == {"code": 3, "signal": None, "expected": False}
    assert exits[0]["reason"] == "exit status 3 (not expected)"
    after_last_exit = changes[changes.index(exits[-1]) + 1 :]
    assert [c["to"] for c in after_last_exit] == ["STARTING", "RUNNING"]


def test_scrapes_leave_the_daemon_idle(daemon: Path) -> None:
    scrape(daemon)
    pid = unix_proxy(daemon).supervisor.getPID()
    process = psutil.Process(pid)
    before = sum(process.cpu_times()[:2])
    time.sleep(1.0)  # measuring rest: there is nothing to wait for
    assert sum(process.cpu_times()[:2]) - before < 0.02


def test_metrics_take_the_same_credentials_as_every_route(tmp_path: Path, cleanup: Started) -> None:
    port = free_port()
    conf = config(
        tmp_path,
        f"""
        [inet_http_server]
        port=127.0.0.1:{port}
        username=admin
        password=s3cret

        [program:quiet]
        command=sleep 1000
        startsecs=0
        """,
    )
    cleanup.append(start_daemonized(conf))
    url = f"http://127.0.0.1:{port}/metrics"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    assert refused.value.code == 401
    token = base64.b64encode(b"admin:s3cret").decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})

    def quiet_running() -> bool:
        text = urllib.request.urlopen(request, timeout=30).read().decode()
        found = samples(text)
        return value(found, "vigil_process_up", name="quiet", group="quiet") == 1

    wait_until(quiet_running, what="quiet RUNNING in /metrics")
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: not (tmp_path / "s.sock").exists(), what="the daemon's exit")
