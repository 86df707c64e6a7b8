"""vigil's web UI on a real daemon: escaping of everything that comes from processes and
requests, the form token that guards the page's own POST buttons, clear refusals of bad
input, Basic auth on every page, and the redirect's host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support import Daemon, running_daemon, wait_until
from tests.web.support import (
    act,
    basic_auth,
    fetch,
    free_port,
    read_status_page,
    read_tail_page,
    short_directory,
)

PROGRAMS = """
[program:alpha]
command=sleep 1000
startsecs=0

[program:broken]
command=/nonexistent/<script>alert(1)</script>
startretries=0

[program:echoer]
command=sh -c "echo '&amp; <i>not markup</i>' && exec sleep 1000"
startsecs=0
"""

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    with short_directory() as tmp, running_daemon(tmp, PROGRAMS) as started:
        started.wait_state("alpha", "RUNNING")
        started.wait_state("echoer", "RUNNING")
        started.wait_state("broken", "FATAL")
        yield started


def page_token(daemon: Daemon) -> str:
    tokens = set(read_status_page(fetch(daemon, "/index.html").text).tokens)
    assert len(tokens) == 1, tokens
    (token,) = tokens
    assert len(token) >= 32
    return token


def test_process_output_and_errors_are_escaped_never_markup(daemon: Daemon) -> None:
    page = fetch(daemon, "/index.html").text
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    row = next(row for row in read_status_page(page).rows if row.name == "broken")
    assert (row.state, row.state_class) == ("fatal", "statuserror")
    assert "/nonexistent/<script>alert(1)</script>" in row.description

    wait_until(lambda: "not markup" in fetch(daemon, "/tail.html?processname=echoer").text)
    tail_html = fetch(daemon, "/tail.html?processname=echoer").text
    assert "<i>" not in tail_html
    # the log's bytes are shown as they are, an entity-looking "&amp;" included
    assert read_tail_page(tail_html).tail == "&amp; <i>not markup</i>\n"


def test_request_values_are_escaped_in_the_page(daemon: Daemon) -> None:
    status = fetch(daemon, "/?message=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E").text
    assert "<img" not in status
    assert read_status_page(status).message == "<img src=x onerror=alert(1)>"

    tail = fetch(daemon, "/tail.html?processname=%3Cscript%3E%22x").text
    assert "<script" not in tail
    page = read_tail_page(tail)
    assert page.title == 'Supervisor tail of process <script>"x'
    assert page.tail == 'ERROR: unexpected rpc fault [10] BAD_NAME: <script>"x'
    assert page.refresh == "tail.html?processname=%3Cscript%3E%22x&limit=1024"


def test_the_pages_own_buttons_post_with_the_daemons_token(daemon: Daemon) -> None:
    page = read_status_page(fetch(daemon, "/index.html").text)
    assert page.page_actions == [
        "index.html?action=refresh",
        "index.html?action=restartall",
        "index.html?action=stopall",
    ]
    token = page_token(daemon)
    stop = "/index.html?processname=alpha&action=stop"

    refused = fetch(daemon, stop, method="POST", body=b"", headers=FORM)
    assert refused.status == 403
    assert "token" in refused.text
    wrong = fetch(daemon, stop, method="POST", body=b"csrf_token=guess", headers=FORM)
    assert wrong.status == 303  # taken for a page from an earlier daemon: sent back
    assert "nothing was done" in wrong.message
    assert daemon.info("alpha")["statename"] == "RUNNING"

    done = fetch(daemon, stop, method="POST", body=f"csrf_token={token}".encode(), headers=FORM)
    assert (done.status, done.message) == (301, "Process alpha stopped")
    assert daemon.info("alpha")["statename"] == "STOPPED"

    # the action and the process may come in the body too, as Supervisor merges them
    body = f"processname=alpha&action=start&csrf_token={token}".encode()
    started = fetch(daemon, "/index.html", method="POST", body=body, headers=FORM)
    assert (started.status, started.message) == (301, "Process alpha started")


def test_a_get_action_asks_and_the_confirmation_acts(daemon: Daemon) -> None:
    reply = fetch(daemon, "/index.html?processname=alpha&action=stop")
    assert reply.status == 200
    assert daemon.info("alpha")["statename"] == "RUNNING"
    done = act(daemon, "/index.html?processname=alpha&action=stop")
    assert (done.status, done.message) == (301, "Process alpha stopped")
    assert daemon.info("alpha")["statename"] == "STOPPED"


def test_posts_that_change_nothing_need_no_token(daemon: Daemon) -> None:
    assert fetch(daemon, "/index.html", method="POST", body=b"", headers=FORM).status == 200
    tail = fetch(daemon, "/tail.html", method="POST", body=b"processname=alpha", headers=FORM)
    assert (tail.status, read_tail_page(tail.text).tail) == (200, "")
    ok = fetch(daemon, "/ok.html", method="POST", body=b"")
    assert (ok.status, ok.body) == (200, b"OK")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/index.html?action=bogus", "unknown action 'bogus'"),
        ("/index.html?processname=alpha&action=bogus", "unknown action 'bogus'"),
        ("/index.html?action=start", "action 'start' needs a processname"),
        ("/index.html?processname=&action=stop", "action 'stop' needs a processname"),
    ],
)
def test_a_bad_action_is_a_400_saying_what_was_wrong(daemon: Daemon, url: str, says: str) -> None:
    reply = fetch(daemon, url)
    assert reply.status == 400
    assert says in reply.text
    assert "Traceback" not in reply.text
    assert daemon.info("alpha")["statename"] == "RUNNING"


def test_an_oversized_form_is_refused(daemon: Daemon) -> None:
    body = b"message=" + b"x" * (128 * 1024)
    reply = fetch(daemon, "/index.html", method="POST", body=body, headers=FORM)
    assert reply.status == 413
    assert "larger than" in reply.text


@pytest.mark.parametrize(
    ("limit", "shown"),
    [("junk", "1024"), ("\u0661\u0662", "1024"), ("10", "1024"), ("9" * 5000, "9" * 18)],
)
def test_tail_limit_of_any_shape_is_answered(daemon: Daemon, limit: str, shown: str) -> None:
    reply = fetch(daemon, f"/tail.html?processname=alpha&limit={quote(limit)}")
    assert reply.status == 200
    assert read_tail_page(reply.text).refresh == f"tail.html?processname=alpha&limit={shown}"


def test_the_stylesheet_is_served_where_the_page_links_it(daemon: Daemon) -> None:
    page = fetch(daemon, "/index.html").text
    assert 'href="stylesheets/supervisor.css"' in page
    css = fetch(daemon, "/stylesheets/supervisor.css")
    assert css.status == 200
    assert css.headers["content-type"] == "text/css"
    for state_class in ("statusrunning", "statuserror", "statusnominal", "shade", "status_msg"):
        assert f".{state_class}" in css.text


AUTH_SERVER = """
[inet_http_server]
port=127.0.0.1:{port}
username=admin
password=s3cret
"""


@pytest.fixture
def guarded() -> Iterator[tuple[Daemon, int]]:
    with short_directory() as tmp:
        yield start_with_port(tmp)


def start_with_port(tmp: Path) -> tuple[Daemon, int]:
    """A daemon whose TCP server needs a password; another test may take a free port between
    our finding it and the daemon binding it, so a few ports are tried."""
    for _ in range(5):
        port = free_port()
        daemon = Daemon(tmp, PROGRAMS + AUTH_SERVER.format(port=port))
        try:
            daemon.start()
        except AssertionError as exc:
            if "in use" not in str(exc) and "Address" not in str(exc):
                raise
            continue
        return daemon, port
    raise AssertionError("no free TCP port could be bound")


def test_every_page_asks_for_credentials_when_the_server_has_them(
    guarded: tuple[Daemon, int],
) -> None:
    daemon, port = guarded
    try:
        daemon.wait_state("alpha", "RUNNING")
        for url in (
            "/ok.html",
            "/",
            "/index.html",
            "/tail.html?processname=alpha",
            "/stylesheets/supervisor.css",
            "/index.html?action=stopall",
        ):
            reply = fetch(None, url, port=port)
            assert reply.status == 401, url
            assert reply.headers["www-authenticate"] == 'Basic realm="default"'
        assert daemon.info("alpha")["statename"] == "RUNNING"

        good = basic_auth("admin", "s3cret")
        assert fetch(None, "/ok.html", port=port, headers=good).body == b"OK"
        assert fetch(None, "/", port=port, headers=basic_auth("admin", "nope")).status == 401
        asked = fetch(None, "/index.html?processname=alpha&action=stop", port=port, headers=good)
        assert asked.status == 200
        assert daemon.info("alpha")["statename"] == "RUNNING"
        stop = act(None, "/index.html?processname=alpha&action=stop", port=port, headers=good)
        assert stop.status == 301
        assert stop.headers["location"] == (
            f"http://127.0.0.1:{port}/?message=Process%20alpha%20stopped"
        )
    finally:
        daemon.stop()


def test_the_redirect_names_the_host_the_client_asked_for(
    guarded: tuple[Daemon, int],
) -> None:
    daemon, port = guarded
    try:
        good = basic_auth("admin", "s3cret")
        url = "/index.html?action=refresh"
        cases = {
            "example.com": "http://example.com/",
            "example.com:80": "http://example.com/",
            "example.com:9001": "http://example.com:9001/",
            "[::1]:9001": "http://[::1]:9001/",
            # not a plain host: the listening address is used, nothing is echoed
            "evil.example/x?y=": f"http://127.0.0.1:{port}/",
            "user@evil.example": f"http://127.0.0.1:{port}/",
        }
        for host, expected in cases.items():
            reply = fetch(None, url, port=port, headers={**good, "Host": host})
            assert reply.status == 301
            location = reply.headers["location"]
            shape = re.escape(expected) + r"\?message=Page%20refreshed%20at%20.+"
            assert re.fullmatch(shape, location), (host, location)
    finally:
        daemon.stop()
