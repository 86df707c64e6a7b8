"""The status page never changes state on a GET (a daemonized daemon, on its unix socket and
its TCP port): a link carrying ``action=`` shows a confirmation whose button POSTs the action
with the page's token; a POST with a token from before a reload is sent back to the status
page with a message, having done nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.http.live import DEADLINE, PY, TRANSPORTS, LiveDaemon, live_daemon
from tests.support import unix_proxy, wait_until
from tests.web.support import (
    FORM_HEADERS,
    act,
    fetch,
    read_confirmation,
    read_status_page,
    short_directory,
)

PROGRAMS = """
[program:alpha]
command=sh -c "echo alpha says hello; exec sleep 1000"
startsecs=0

[program:beta]
command=sleep 1000
startsecs=0
"""

# (query, what the confirmation asks)
ACTIONS = [
    ("processname=alpha&action=stop", "Stop alpha?"),
    ("processname=alpha&action=restart", "Restart alpha?"),
    ("processname=alpha&action=clearlog", "Clear the log of alpha?"),
    ("action=stopall", "Stop all processes?"),
    ("action=restartall", "Restart all processes?"),
]


@pytest.fixture(scope="module")
def daemon() -> Iterator[LiveDaemon]:
    with short_directory() as tmp, live_daemon(tmp, programs=PROGRAMS) as started:
        yield started


def ask(daemon: LiveDaemon, transport: str, url: str, **options: Any) -> Any:
    """fetch() on the given transport."""
    if transport == "unix":
        return fetch(daemon, url, **options)
    return fetch(None, url, port=daemon.port, **options)


def pids(daemon: LiveDaemon) -> dict[str, int]:
    infos = unix_proxy(daemon.sock).supervisor.getAllProcessInfo()
    assert all(info["statename"] == "RUNNING" for info in infos), infos
    return {info["name"]: info["pid"] for info in infos}


def alpha_log(daemon: LiveDaemon) -> str:
    text: str = unix_proxy(daemon.sock).supervisor.readProcessStdoutLog("alpha", 0, 0)
    return text


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("query", "question"), ACTIONS)
def test_a_get_with_an_action_changes_nothing_and_asks(
    daemon: LiveDaemon, transport: str, query: str, question: str
) -> None:
    wait_until(lambda: "hello" in alpha_log(daemon), DEADLINE, "alpha's output")
    before = pids(daemon)
    reply = ask(daemon, transport, f"/index.html?{query}")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html;charset=utf-8"
    confirmation = read_confirmation(reply.text)
    assert confirmation.question == question
    assert confirmation.url == f"index.html?{query}"
    assert confirmation.token == read_status_page(fetch(daemon, "/index.html").text).tokens[0]
    # nothing was done: the same processes, still running, and the log still there
    assert pids(daemon) == before
    assert "hello" in alpha_log(daemon)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_confirmations_button_acts(daemon: LiveDaemon, transport: str) -> None:
    done = act(
        daemon if transport == "unix" else None,
        "/index.html?processname=beta&action=stop",
        **({} if transport == "unix" else {"port": daemon.port}),
    )
    assert (done.status, done.message) == (301, "Process beta stopped")
    assert unix_proxy(daemon.sock).supervisor.getProcessInfo("beta")["statename"] == "STOPPED"
    started = act(daemon, "/index.html?processname=beta&action=start")
    assert (started.status, started.message) == (301, "Process beta started")


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("processname=nope&action=stop", 301, "No such process named nope"),
        ("action=refresh", 301, "Page refreshed at "),
        ("action=bogus", 400, "unknown action 'bogus'"),
        ("processname=alpha&action=bogus", 400, "unknown action 'bogus'"),
        ("action=stop", 400, "action 'stop' needs a processname"),
    ],
)
def test_what_changes_nothing_is_answered_at_once(
    daemon: LiveDaemon, query: str, status: int, says: str
) -> None:
    before = pids(daemon)
    reply = fetch(daemon, f"/index.html?{query}")
    assert reply.status == status
    assert says in (reply.message if status == 301 else reply.text)
    assert pids(daemon) == before


def test_a_token_from_before_a_reload_is_sent_back_with_a_message() -> None:
    with short_directory() as tmp, live_daemon(tmp, programs=PROGRAMS) as daemon:
        old = read_confirmation(fetch(daemon, "/index.html?processname=alpha&action=stop").text)
        first_pid = pids(daemon)["alpha"]
        reload = subprocess.run(
            [PY, "-m", "vigil.ctl.main", "-c", str(daemon.conf), "reload"],
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
        assert reload.returncode == 0, reload.stdout + reload.stderr

        def restarted() -> bool:
            try:
                return pids(daemon)["alpha"] != first_pid
            except (OSError, AssertionError):
                return False

        wait_until(restarted, DEADLINE, "the daemon to come back from reload")
        before = pids(daemon)
        body = f"csrf_token={old.token}".encode()
        reply = fetch(daemon, "/" + old.url, method="POST", body=body, headers=FORM_HEADERS)
        assert reply.status == 303
        assert reply.headers["location"].startswith("http://localhost/?message=")
        assert "nothing was done" in reply.message
        assert pids(daemon) == before  # alpha was not stopped
        # the status page it is sent to shows the message, with the new token
        page = read_status_page(fetch(daemon, "/?" + reply.headers["location"].split("?")[1]).text)
        assert page.message == reply.message
        assert old.token not in page.tokens
        # and a POST without any token is still refused outright
        bare = fetch(daemon, "/" + old.url, method="POST", body=b"", headers=FORM_HEADERS)
        assert bare.status == 403
        assert pids(daemon) == before
