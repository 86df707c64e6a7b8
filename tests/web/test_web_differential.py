"""The web UI against Supervisor 4.3.0's: the same config, the same requests, the same answers.

Both daemons run side by side on one config. What a script sees is compared after pids,
uptimes, stop times and the time in "... at <ctime>" messages are normalised: ok.html, the
status table (names, states, state classes, shading, action URLs), every action's redirect
(status, Location, message), the status message, and tail.html. An action is followed as a
user follows it: vigil asks for a confirmation before a GET changes anything, which is
given; what the action then answers is Supervisor's answer to the GET.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import Daemon
from tests.web.support import (
    Reply,
    StatusPage,
    act,
    fetch,
    read_status_page,
    read_tail_page,
    short_directory,
)

PROGRAMS = """
[program:alpha]
command=sleep 1000
startsecs=0

[program:missing]
command=/nonexistent/program
autostart=false

[program:noexec]
command={tmp}/noexec.sh
autostart=false

[program:quick]
command=true
autostart=false
startsecs=10
startretries=0

[program:quiet]
command=sleep 1000
autostart=false
startsecs=0
stdout_logfile=NONE

[program:talker]
command=sh -c "echo 'hello <b>&</b> \"quoted\"' && exec sleep 1000"
startsecs=0

[group:web]
programs=one,two

[program:one]
command=sleep 1000
startsecs=0

[program:two]
command=sleep 1000
autostart=false
startsecs=0
"""

SETTLED = ("RUNNING", "STOPPED", "FATAL", "EXITED")

# (process, action) in order; each redirect is compared. Together they reach every message.
ACTIONS = [
    ("alpha", "start"),  # already started
    ("alpha", "stop"),
    ("alpha", "stop"),  # not running: a fault without "ERROR:"
    ("alpha", "start"),
    ("alpha", "restart"),
    ("missing", "start"),  # no such file
    ("noexec", "start"),  # file not executable
    ("quick", "start"),  # exits long before startsecs, even on a slow machine: spawn error
    ("web:two", "start"),
    ("web:two", "restart"),
    ("web:two", "stop"),
    ("web:two", "restart"),  # a stopped process is restarted by starting it
    ("alpha", "clearlog"),
    ("quiet", "clearlog"),  # no log file to clear
    ("nope", "start"),
    ("web:*", "start"),  # a group is not a process
    ("web:", "stop"),
    ("x%26y%20z%2F", "stop"),  # parameters are percent-decoded; the message is quoted again
    ("nope", "bogus"),  # an unknown process is reported before an unknown action
    (None, "refresh"),
    (None, "stopall"),
    (None, "restartall"),
]


def normalise(text: str) -> str:
    text = re.sub(r"pid \d+, uptime \d+:\d\d:\d\d", "pid N, uptime T", text)
    text = re.sub(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", "CTIME", text)
    return re.sub(r"^\w{3} \d\d \d\d:\d\d [AP]M$", "STOPTIME", text)


def table(page: StatusPage) -> list[tuple[Any, ...]]:
    return [
        (
            row.name,
            row.state,
            row.state_class,
            "shade" in row.classes,
            normalise(row.description),
            row.name_href,
            row.actions,
        )
        for row in page.rows
    ]


def settle(daemon: Daemon) -> None:
    for info in daemon.rpc().supervisor.getAllProcessInfo():
        namespec = info["name"] if info["group"] == info["name"] else f"web:{info['name']}"
        daemon.wait_state(namespec, *SETTLED)


def redirect(reply: Reply) -> tuple[int, str, str]:
    """(status, where to, message): the message is URL-quoted into the Location as Python's
    quote() does it, and its time (if any) is normalised."""
    location = reply.headers["location"]
    where, _, quoted = location.partition("?message=")
    assert quoted == quote(reply.message), location
    return reply.status, where, normalise(reply.message)


def scenario(daemon: Daemon) -> list[tuple[str, object]]:
    """Everything the web UI answers on this config, as a script would record it."""
    seen: list[tuple[str, object]] = []
    ok = fetch(daemon, "/ok.html")
    seen.append(("ok.html", (ok.status, ok.body, ok.headers["content-type"])))
    daemon.wait_state("alpha", "RUNNING")
    daemon.wait_state("web:one", "RUNNING")
    daemon.wait_state("talker", "RUNNING")
    seen.append(("status page", table(read_status_page(fetch(daemon, "/index.html").text))))
    for namespec, action in ACTIONS:
        query = (
            f"action={action}" if namespec is None else f"processname={namespec}&action={action}"
        )
        reply = act(daemon, f"/index.html?{query}")
        seen.append((query, redirect(reply)))
    settle(daemon)
    after = read_status_page(fetch(daemon, "/?message=hello%20%3Cthere%3E").text)
    seen.append(("after the actions", (after.message, table(after))))
    seen.extend(tails(daemon))
    return seen


def tails(daemon: Daemon) -> Iterator[tuple[str, object]]:
    daemon.wait_state("talker", "RUNNING")
    for url in (
        "/tail.html?processname=talker",
        "/tail.html?processname=talker&limit=5000",
        "/tail.html?processname=talker&limit=junk",
        "/tail.html?processname=quiet",
        "/tail.html?processname=nope",
        "/tail.html",
    ):
        page = read_tail_page(fetch(daemon, url).text)
        yield url, (page.tail, page.refresh)


def both(make: Callable[[Path], str], run: Callable[[Daemon], Any]) -> dict[str, Any]:
    """Run ``run`` against Supervisor and vigil at once, each on its own copy of the config."""

    def one(kind: str) -> Any:
        with short_directory() as tmp:
            daemon = Daemon(tmp, make(tmp), kind=kind)
            daemon.start()
            try:
                return run(daemon)
            finally:
                daemon.stop()

    with ThreadPoolExecutor(2) as pool:
        futures = {kind: pool.submit(one, kind) for kind in ("supervisor", "vigil")}
        return {kind: future.result() for kind, future in futures.items()}


def programs(tmp: Path) -> str:
    (tmp / "noexec.sh").write_text("#!/bin/sh\n")  # no execute permission
    return PROGRAMS.replace("{tmp}", str(tmp))


@pytest.mark.timeout(120)
def test_status_page_actions_and_tails_answer_as_supervisor_does() -> None:
    results = both(programs, scenario)
    reference, ours = results["supervisor"], results["vigil"]
    assert [label for label, _ in ours] == [label for label, _ in reference]
    for (label, expected), (_, actual) in zip(reference, ours, strict=True):
        assert actual == expected, f"{label}: vigil differs from Supervisor"


def test_an_empty_config_says_no_programs_to_manage() -> None:
    def empty(daemon: Daemon) -> tuple[int, bool, int, str]:
        reply = fetch(daemon, "/index.html")
        page = read_status_page(reply.text)
        return reply.status, page.empty, len(page.rows), reply.headers["content-type"]

    results = both(lambda tmp: "", empty)
    assert results["vigil"] == results["supervisor"] == (200, True, 0, "text/html;charset=utf-8")


def test_pages_carry_supervisors_no_cache_headers() -> None:
    def headers(daemon: Daemon) -> list[dict[str, str]]:
        wanted = ("pragma", "cache-control", "expires", "content-type")
        replies = [
            fetch(daemon, url)
            for url in ("/?message=hello", "/index.html", "/tail.html?processname=x")
        ]
        replies.append(fetch(daemon, "/index.html?action=refresh"))
        return [{name: reply.headers.get(name, "") for name in wanted} for reply in replies]

    results = both(lambda tmp: "", headers)
    # the redirect's own Content-Type is the error page Supervisor's server sends with it
    for reference, ours in zip(results["supervisor"], results["vigil"], strict=True):
        if reference["content-type"] == "text/html":
            del reference["content-type"], ours["content-type"]
        assert ours == reference
