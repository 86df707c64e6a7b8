"""The restart policy (issue 15) with real crashing programs on a daemonized vigil: retry
forever, exponential backoff, leaving FATAL after fatal_retry, start_limit's flapping FATAL,
restart_delay and oneshot tasks. Conditions are waited for with deadlines; delays are measured
from the main log's spawn times."""

from __future__ import annotations

import datetime
import http.client
import itertools
import json
import re
import socket
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.daemonized import Started, config, start_daemonized
from tests.daemon.test_daemonize import gone
from tests.support import unix_proxy, wait_until

SPAWNED = re.compile(r"^(\S+ \S+) INFO spawned: 'p' with pid \d+$", re.MULTILINE)
FAIL_AT_ONCE = '/bin/sh -c "exit 1"'
RUN_THEN_CRASH = '/bin/sh -c "sleep 0.2; exit 3"'


class Policy:
    """A daemon with one program `p` configured by `lines`."""

    def __init__(self, tmp_path: Path, cleanup: Started, lines: str) -> None:
        self.conf = config(tmp_path, f"[program:p]\n{lines}\n")
        self.log = tmp_path / "d.log"
        self.pid = start_daemonized(self.conf)
        cleanup.append(self.pid)
        self.rpc = unix_proxy(tmp_path / "s.sock")

    def info(self) -> dict[str, Any]:
        found: dict[str, Any] = self.rpc.supervisor.getProcessInfo("p")
        return found

    def document(self) -> dict[str, Any]:
        """The JSON API's record of `p`, asked over the unix socket."""
        connection = http.client.HTTPConnection("localhost")
        connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.sock.connect(str(self.conf.parent / "s.sock"))
        connection.request("GET", "/api/v1/processes/p")
        found: dict[str, Any] = json.loads(connection.getresponse().read())
        connection.close()
        return found

    def spawn_times(self) -> list[float]:
        text = self.log.read_text() if self.log.exists() else ""
        return [
            datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            for stamp in SPAWNED.findall(text)
        ]

    def wait_info(self, check: Any, what: str, timeout: float = 30) -> dict[str, Any]:
        def matching() -> dict[str, Any] | None:
            info = self.info()
            return info if check(info) else None

        found: dict[str, Any] = wait_until(matching, timeout, what)
        return found

    def shutdown(self) -> None:
        self.rpc.supervisor.shutdown()
        wait_until(lambda: gone(self.pid), what="daemon exit")


@pytest.fixture
def policy(tmp_path: Path, cleanup: Started) -> Iterator[Any]:
    made: list[Policy] = []

    def make(lines: str) -> Policy:
        made.append(Policy(tmp_path, cleanup, lines))
        return made[-1]

    yield make
    for daemon in made:
        if not gone(daemon.pid):
            daemon.shutdown()


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_startretries_minus_one_retries_forever(policy: Any) -> None:
    p = policy(
        f"command={FAIL_AT_ONCE}\nstartsecs=1\nstartretries=-1\nbackoff=fixed\nbackoff_delay=0.1"
    )
    info = p.wait_info(
        lambda i: i["statename"] == "BACKOFF" and "startretries = -1" in i["description"],
        "BACKOFF saying retries never end",
    )
    assert info["description"].startswith("Exited too quickly (process log may have details);")
    assert "; next try at " in info["description"]
    wait_until(lambda: len(p.spawn_times()) >= 10, what="ten starts (Supervisor gives up at 4)")
    assert p.info()["statename"] in ("BACKOFF", "STARTING")
    assert "entered FATAL" not in p.log.read_text()


def test_exponential_backoff_doubles_up_to_the_cap(policy: Any) -> None:
    p = policy(
        f"command={FAIL_AT_ONCE}\nstartsecs=1\nstartretries=-1\nbackoff=exponential\n"
        "backoff_delay=0.25\nbackoff_max=1"
    )
    wait_until(lambda: len(p.spawn_times()) >= 6, what="6 starts")
    times = p.spawn_times()
    expected = [0.25, 0.5, 1, 1, 1]
    for gap, wait in zip(gaps(times[:6]), expected, strict=True):
        # a log stamp is to the millisecond; the child's own run adds a little
        assert wait - 0.002 <= gap < wait + 0.5, (gaps(times), expected)


def test_fatal_retry_leaves_fatal_after_the_cool_down(policy: Any) -> None:
    p = policy(f"command={FAIL_AT_ONCE}\nstartsecs=1\nstartretries=0\nfatal_retry=1.5")
    info = p.wait_info(lambda i: i["statename"] == "FATAL", "FATAL")
    assert info["description"].startswith("Exited too quickly (process log may have details);")
    assert "; next try at " in info["description"]
    assert info["description"].endswith("(fatal_retry = 1.5)")
    document = wait_until(
        lambda: (d := p.document())["state"] == "FATAL" and d["next_attempt_at"] and d,
        what="the JSON API's next attempt in FATAL",
    )
    assert time.time() - 0.1 <= document["next_attempt_at"] <= time.time() + 1.6
    wait_until(lambda: len(p.spawn_times()) >= 3, what="two tries after FATAL")
    first, second, third = p.spawn_times()[:3]
    assert second - first >= 1.5 and third - second >= 1.5
    assert p.log.read_text().count("gave up: p entered FATAL state") >= 2


def test_start_limit_makes_a_flapping_program_fatal(policy: Any) -> None:
    p = policy(f"command={RUN_THEN_CRASH}\nstartsecs=0\nautorestart=true\nstart_limit=3/30")
    info = p.wait_info(lambda i: i["statename"] == "FATAL", "FATAL for flapping")
    assert info["description"] == "Started 3 times within 30 seconds (start_limit = 3/30)"
    assert len(p.spawn_times()) == 3
    assert "gave up: p entered FATAL state, flapping: " in p.log.read_text()


def test_restart_delay_waits_before_restarting_a_program_that_ran(policy: Any) -> None:
    p = policy(f"command={RUN_THEN_CRASH}\nstartsecs=0\nrestart_delay=1\nbackoff=fixed")
    info = p.wait_info(lambda i: i["statename"] == "BACKOFF", "BACKOFF before the restart")
    assert info["description"].startswith("Bad exit code 3; next try at ")
    assert info["description"].endswith("(restart 1 after a 1 s restart_delay)")
    wait_until(lambda: len(p.spawn_times()) >= 3, what="two restarts")
    # each run lasts 0.2 s, then the wait of 1 s
    assert all(gap >= 1.2 for gap in gaps(p.spawn_times()[:3]))


def test_oneshot_is_completed_not_exited_too_quickly(policy: Any) -> None:
    p = policy('command=/bin/sh -c "exit 0"\nstartsecs=5\ntype=oneshot')
    info = p.wait_info(lambda i: i["statename"] == "EXITED", "EXITED")
    assert info["description"].startswith("completed at ") and info["exitstatus"] == 0
    assert info["spawnerr"] == ""
    assert len(p.spawn_times()) == 1
    assert "Exited too quickly" not in p.log.read_text()


def test_without_oneshot_the_same_program_exits_too_quickly(policy: Any) -> None:
    p = policy('command=/bin/sh -c "exit 0"\nstartsecs=5\nstartretries=0')
    info = p.wait_info(lambda i: i["statename"] == "FATAL", "FATAL")
    assert info["description"] == "Exited too quickly (process log may have details)"


def test_stopping_a_fatal_process_cancels_its_fatal_retry(policy: Any) -> None:
    p = policy(f"command={FAIL_AT_ONCE}\nstartsecs=1\nstartretries=0\nfatal_retry=30")
    p.wait_info(lambda i: i["statename"] == "FATAL" and "next try" in i["description"], "FATAL")
    assert p.rpc.supervisor.stopProcess("p") is True
    document = p.document()
    assert (document["state"], document["next_attempt_at"]) == ("FATAL", None)
    assert "next try" not in document["description"]
    with pytest.raises(xmlrpc.client.Fault) as again:
        p.rpc.supervisor.stopProcess("p")  # nothing left to cancel: as Supervisor answers
    assert again.value.faultString == "NOT_RUNNING: p"
