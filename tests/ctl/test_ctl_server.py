"""The server side of supervisorctl's exit statuses: authentication, a daemon without the
supervisor namespace, another API version, version, reload and shutdown."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from xmlrpc.server import SimpleXMLRPCServer

import pytest

from tests.ctl.harness import PASSWORD, USERNAME, Twins, compare_without_daemon

PROGRAMS = """
[program:sleeper]
command=sleep 1000
startsecs=0
"""

StartTwins = Callable[..., Twins]


def test_daemon_without_the_supervisor_namespace(daemon_kind: str, start_twins: StartTwins) -> None:
    twins = start_twins(daemon_kind, PROGRAMS, rpcinterface=False)
    if daemon_kind == "vigil":
        # vigil always serves supervisor.* (docs/compatibility.md): both clients just work
        twins.check("version", status=0)
        return
    result = twins.check("version", status=3)
    assert "[rpcinterface:supervisor]" in result.stdout
    twins.check("status", status=4)  # status reports "unknown" whatever stopped it


@pytest.fixture
def old_api_server() -> Iterator[str]:
    """An XML-RPC server on loopback that answers like a supervisord of API version 2.0."""
    server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    server.register_function(lambda: "2.0", "supervisor.getVersion")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_server_of_another_api_version(old_api_server: str) -> None:
    result = compare_without_daemon("-s", old_api_server, "version", status=5)
    assert "the remote version is 2.0." in result.stdout


@pytest.fixture
def twins(daemon_kind: str, start_twins: StartTwins) -> Twins:
    pair = start_twins(daemon_kind, PROGRAMS, inet=True)
    pair.wait_states({"sleeper": "RUNNING"})
    return pair


def test_authentication(twins: Twins) -> None:
    # Without credentials, and with a wrong password: refused (the message, then the error).
    refused = twins.check("status", url="inet", status=1)
    assert refused.stdout.startswith("Server requires authentication\nerror: ")
    twins.check("avail", url="inet", status=1)
    twins.check("-u", USERNAME, "-p", "wrong", "version", url="inet", status=1)
    twins.check("-u", USERNAME, "-p", PASSWORD, "status", url="inet", status=0)
    twins.check("-u", USERNAME, "-p", PASSWORD, "tail", "sleeper", url="inet", status=0)
    twins.check("--username", USERNAME, "--password=" + PASSWORD, "version", url="inet")
    # The unix socket of the same daemon needs no password.
    twins.check("version", url="unix", status=0)


def test_reload_and_shutdown(twins: Twins) -> None:
    twins.check("version", status=0)
    twins.check("-i", "reload", stdin="n\n", status=0)  # asked first; "n" keeps it running
    twins.check("reload", status=0)
    twins.each(lambda daemon: daemon.wait_answering())
    twins.wait_states({"sleeper": "RUNNING"})
    twins.check("-i", "shutdown", stdin="no\n", status=0)
    twins.check("shutdown", status=0)
    twins.each(lambda daemon: daemon.wait_exited())
    twins.check("shutdown", status=1)  # already shut down: no such file
    twins.check("status", status=4)
    twins.check("stop", "sleeper", status=7)
