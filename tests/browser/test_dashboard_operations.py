"""The dashboard and issue 19's operations, in a real browser against a daemonized vigil: a
program's readiness probe is shown as written, and the rows of instances removed by a scale
go (and those added come) without a reload, on PROCESS_GROUP_SCALED."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.client import call
from tests.browser.support import ADMIN, BrowserDaemon, browser_daemon

PROGRAMS = """
[program:api]
command=sh -c 'echo listening; exec sleep 1000'
ready=log:listening

[program:w]
command=sleep 1000
numprocs=3
process_name=w_%(process_num)d
startsecs=0
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserDaemon]:
    with browser_daemon(tmp_path_factory.mktemp("ops"), PROGRAMS) as started:
        for name in ("api", "w:w_0", "w:w_1", "w:w_2"):
            started.wait_state(name, "RUNNING")
        yield started


def row(page: Any, namespec: str) -> Any:
    return page.locator(f'tr.row[data-ns="{namespec}"]')


def test_the_readiness_probe_is_shown_as_written(browser: Any, daemon: BrowserDaemon) -> None:
    context = browser.new_context(http_credentials=ADMIN)
    try:
        page = context.new_page()
        page.goto(daemon.url)
        expect(row(page, "api").locator(".extra")).to_have_text("ready = log:listening")
        expect(row(page, "w:w_0").locator(".extra")).to_have_text("")
    finally:
        context.close()


def test_a_scale_drops_and_adds_rows_without_a_reload(browser: Any, daemon: BrowserDaemon) -> None:
    context = browser.new_context(http_credentials=ADMIN)
    try:
        page = context.new_page()
        page.goto(daemon.url)
        expect(page.locator("tr.row")).to_have_count(4)
        # a stopped instance goes without a state change: only the scale's event says so
        assert call(daemon.sock, "POST", "/processes/w:w_2/stop").status == 200
        expect(row(page, "w:w_2").locator(".badge")).to_have_text("stopped")
        # its document read again after the change (the last exit comes with it)
        expect(row(page, "w:w_2").locator(".c-exit")).to_contain_text("SIGTERM")
        answer = call(daemon.sock, "POST", "/groups/w/scale", {"numprocs": 2})
        assert answer.status == 200, answer.body
        expect(page.locator("tr.row")).to_have_count(3)
        expect(row(page, "w:w_2")).to_have_count(0)
        answer = call(daemon.sock, "POST", "/groups/w/scale", {"numprocs": 1})
        assert answer.status == 200, answer.body
        expect(page.locator("tr.row")).to_have_count(2)
        expect(row(page, "w:w_1")).to_have_count(0)
        answer = call(daemon.sock, "POST", "/groups/w/scale", {"numprocs": 3})
        assert answer.status == 200, answer.body
        expect(page.locator("tr.row")).to_have_count(4)
        expect(row(page, "w:w_2")).to_have_count(1)
    finally:
        context.close()
