"""The dashboard in a real browser against a daemonized vigil with real processes: it loads,
filters, acts on one process, a group and a selection, changes a row within a second of a
child's death without a reload, follows and searches a log, keeps a flooding log bounded,
works from the keyboard alone, shows a read-only account no action controls, and passes an
automated accessibility check in light and dark."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.support import ADMIN, AXE, VIEWER, BrowserDaemon, browser_daemon
from tests.support import wait_until

PROGRAMS = """
[program:ticker]
command=sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'
startsecs=0

[program:victim]
command=sleep 1000
startsecs=0
autorestart=false

[program:worker]
command=sleep 1000
startsecs=0

[program:idle]
command=sleep 1000
autostart=false

[program:flood]
command=sh -c 'seq 1 200000 | sed "s/^/flood line /"'
autostart=false
autorestart=false
startsecs=0

[program:web]
command=sleep 1000
numprocs=3
process_name=web_%(process_num)s
startsecs=0
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserDaemon]:
    with browser_daemon(tmp_path_factory.mktemp("dash"), PROGRAMS) as started:
        for name in ("ticker", "victim", "worker", "web:web_0", "web:web_1", "web:web_2"):
            started.wait_state(name, "RUNNING")
        yield started


@pytest.fixture
def page(browser: Any, daemon: BrowserDaemon) -> Iterator[Any]:
    context = browser.new_context(http_credentials=ADMIN)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(daemon.url)
    expect(page.locator("tr.row")).to_have_count(8)
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors


def row(page: Any, namespec: str) -> Any:
    return page.locator(f'tr.row[data-ns="{namespec}"]')


def test_the_shell_is_served_with_a_strict_policy_and_the_classic_page_stays(
    browser: Any, daemon: BrowserDaemon
) -> None:
    context = browser.new_context(http_credentials=ADMIN)
    try:
        shell = context.request.get(daemon.url)
        assert shell.status == 200
        policy = shell.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert 'src="dashboard/app.js"' in shell.text()
        classic = context.request.get(daemon.url + "index.html")
        assert "statustable" in classic.text()
        redirected = context.request.get(daemon.url + "?message=hello")
        assert "statustable" in redirected.text()
        asset = context.request.get(daemon.url + "dashboard/app.js")
        assert asset.headers["content-type"].startswith("text/javascript")
        etag = asset.headers["etag"]
        again = context.request.get(
            daemon.url + "dashboard/app.js", headers={"If-None-Match": etag}
        )
        assert again.status == 304
        assert context.request.get(daemon.url + "dashboard/nothing.js").status == 404
    finally:
        context.close()


def test_rows_show_what_the_daemon_says(page: Any, daemon: BrowserDaemon) -> None:
    for namespec in ("ticker", "worker", "web:web_1"):
        pid = daemon.info(namespec)["pid"]
        expect(row(page, namespec).locator(".c-pid")).to_have_text(str(pid))
        expect(row(page, namespec).locator(".badge")).to_have_text("running")
    expect(row(page, "idle").locator(".badge")).to_have_text("stopped")
    expect(page.locator("#daemon-facts")).to_contain_text(str(daemon.pid))
    # figures from /api/v1/resources: a size for a running process, none for a stopped one,
    # and the CPU history drawn once two readings have come
    expect(row(page, "ticker").locator(".c-mem")).to_have_text(
        re.compile(r"^\d+(\.\d)? (KiB|MiB)$")
    )
    expect(row(page, "ticker").locator(".c-cpu .num")).to_have_text(re.compile(r"^\d+(\.\d)?%$"))
    expect(row(page, "idle").locator(".c-mem")).to_have_text("—")
    expect(row(page, "ticker").locator(".spark polyline")).to_have_attribute(
        "points", re.compile(r"\d,.* \d"), timeout=15000
    )


def test_filter_by_text_and_by_state(page: Any, daemon: BrowserDaemon) -> None:
    page.fill("#filter-text", "web_1")
    expect(page.locator("tr.row:visible")).to_have_count(1)
    expect(page.locator("tr.row:visible")).to_have_attribute("data-ns", "web:web_1")
    page.fill("#filter-text", "")
    page.select_option("#filter-state", "STOPPED")
    shown = page.locator("tr.row:visible")
    stopped = [
        info
        for info in daemon.rpc().supervisor.getAllProcessInfo()
        if info["statename"] == "STOPPED"
    ]
    expect(shown).to_have_count(len(stopped))
    for index in range(len(stopped)):
        expect(shown.nth(index)).to_have_attribute("data-state", "STOPPED")


def test_start_and_stop_one_process(page: Any, daemon: BrowserDaemon) -> None:
    worker = row(page, "worker")
    worker.get_by_role("button", name="Stop worker", exact=True).click()
    expect(worker.locator(".badge")).to_have_text("stopped")
    assert daemon.info("worker")["statename"] == "STOPPED"
    expect(worker.get_by_role("button", name="Stop worker", exact=True)).to_be_hidden()
    worker.get_by_role("button", name="Start worker", exact=True).click()
    expect(worker.locator(".badge")).to_have_text("running")
    pid = daemon.wait_state("worker", "RUNNING")["pid"]
    expect(worker.locator(".c-pid")).to_have_text(str(pid))


def test_a_group_stop_asks_first_then_acts_on_the_whole_group(
    page: Any, daemon: BrowserDaemon
) -> None:
    page.get_by_role("button", name="Stop group web", exact=True).click()
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("group web")
    dialog.get_by_role("button", name="Cancel", exact=True).click()
    expect(dialog).to_be_hidden()
    assert daemon.info("web:web_0")["statename"] == "RUNNING"

    page.get_by_role("button", name="Stop group web", exact=True).click()
    dialog.get_by_role("button", name="Stop group", exact=True).click()
    for index in range(3):
        expect(row(page, f"web:web_{index}").locator(".badge")).to_have_text("stopped")
        assert daemon.info(f"web:web_{index}")["statename"] == "STOPPED"
    page.get_by_role("button", name="Start group web", exact=True).click()
    for index in range(3):
        expect(row(page, f"web:web_{index}").locator(".badge")).to_have_text("running")


def test_bulk_restart_of_a_selection(page: Any, daemon: BrowserDaemon) -> None:
    before = {ns: daemon.info(ns)["pid"] for ns in ("web:web_0", "web:web_2")}
    row(page, "web:web_0").get_by_role("checkbox").check()
    row(page, "web:web_2").get_by_role("checkbox").check()
    expect(page.locator("#selection-count")).to_have_text("2 selected")
    page.get_by_role("button", name="Restart selected", exact=True).click()
    page.locator("dialog#confirm").get_by_role("button", name="Restart 2", exact=True).click()
    expect(page.locator("#results")).to_contain_text("2 of 2 restarted")
    for namespec, pid in before.items():
        after = daemon.wait_state(namespec, "RUNNING")["pid"]
        assert after != pid
        expect(row(page, namespec).locator(".c-pid")).to_have_text(str(after))
    assert daemon.info("web:web_1")["pid"] not in before.values()


def test_a_killed_child_changes_its_row_within_a_second(page: Any, daemon: BrowserDaemon) -> None:
    victim = row(page, "victim")
    expect(victim.locator(".badge")).to_have_text("running")
    os.kill(daemon.info("victim")["pid"], signal.SIGKILL)
    expect(victim.locator(".badge")).to_have_text("exited", timeout=1000)
    expect(victim.locator(".c-pid")).to_have_text("—", timeout=1000)
    expect(victim.locator(".c-exit")).to_contain_text("SIGKILL")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload


def test_logs_follow_and_search(page: Any, daemon: BrowserDaemon) -> None:
    row(page, "ticker").get_by_role("button", name="Logs of ticker", exact=True).click()
    lines = page.locator("#log-lines .line")
    expect(page.locator("#logs")).to_be_visible()
    expect(lines.first).to_contain_text("tick")
    seen = lines.count()
    wait_until(lambda: lines.count() > seen + 3, timeout=10, what="new lines followed")
    newest = int(lines.last.inner_text().split()[-1])
    wait_until(lambda: int(lines.last.inner_text().split()[-1]) > newest, timeout=10, what="newer")
    page.fill("#log-search", "tick 1")
    marks = page.locator("#log-lines mark")
    expect(marks.first).to_have_text("tick 1")
    expect(page.locator("#log-matches")).to_contain_text("match")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator("#log-status")).to_contain_text("paused")
    page.get_by_role("button", name="Jump to newest", exact=True).click()
    expect(page.locator("#log-pause")).to_have_attribute("aria-pressed", "false")
    page.get_by_role("tab", name="stderr", exact=True).click()
    expect(page.get_by_role("tab", name="stderr", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    expect(lines).to_have_count(0)


def test_a_flooding_process_leaves_the_page_bounded_and_usable(
    page: Any, daemon: BrowserDaemon
) -> None:
    row(page, "flood").get_by_role("button", name="Logs of flood", exact=True).click()
    expect(page.locator("#log-status")).to_contain_text("following")
    row(page, "flood").get_by_role("button", name="Start flood", exact=True).click()
    lines = page.locator("#log-lines .line")
    # 200,000 lines arrive; the newest 2,000 are kept (more than the stream may drop)
    expect(lines).to_have_count(2000, timeout=30000)
    daemon.wait_state("flood", "EXITED")
    assert lines.count() == 2000
    expect(lines.last).to_contain_text("flood line")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator("#log-pause")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Close logs", exact=True).click()
    expect(page.locator("#logs")).to_be_hidden()


def test_keyboard_alone(page: Any, daemon: BrowserDaemon) -> None:
    page.locator("body").press("/")
    expect(page.locator("#filter-text")).to_be_focused()
    page.keyboard.type("worker")
    expect(page.locator("tr.row:visible")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(row(page, "worker").get_by_role("checkbox")).to_be_focused()
    page.keyboard.press("Tab")
    stop = row(page, "worker").get_by_role("button", name="Stop worker", exact=True)
    expect(stop).to_be_focused()
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline  # the focus is visible
    page.keyboard.press("Enter")
    expect(row(page, "worker").locator(".badge")).to_have_text("stopped")
    start = row(page, "worker").get_by_role("button", name="Start worker", exact=True)
    expect(start).to_be_focused()  # the focus stays in the row
    page.keyboard.press("Enter")
    expect(row(page, "worker").locator(".badge")).to_have_text("running")
    daemon.wait_state("worker", "RUNNING")

    # a confirmation from the keyboard: Escape cancels, the focus comes back
    page.locator("#filter-text").focus()
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    stop_all = page.get_by_role("button", name="Stop all", exact=True)
    stop_all.focus()
    page.keyboard.press("Enter")
    expect(page.locator("dialog#confirm")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#confirm")).to_be_hidden()
    expect(stop_all).to_be_focused()
    assert daemon.info("ticker")["statename"] == "RUNNING"


def test_a_read_only_account_sees_everything_and_no_action_controls(
    browser: Any, daemon: BrowserDaemon
) -> None:
    context = browser.new_context(http_credentials=VIEWER)
    try:
        page = context.new_page()
        page.goto(daemon.url)
        expect(page.locator("tr.row")).to_have_count(8)
        expect(row(page, "ticker").locator(".badge")).to_have_text("running")
        for name in ("Start", "Stop", "Restart"):
            expect(page.locator(f"button[data-act={name.lower()}]")).to_have_count(0)
        expect(
            page.locator("button[data-gact], button[data-all], button[data-bulk]")
        ).to_have_count(0)
        expect(page.locator("input[type=checkbox]")).to_have_count(0)
        row(page, "ticker").get_by_role("button", name="Logs of ticker", exact=True).click()
        expect(page.locator("#log-lines .line").first).to_contain_text("tick")
        status = page.evaluate(
            "fetch('api/v1/processes/ticker/stop', {method: 'POST',"
            " headers: {'Content-Type': 'application/json'}, body: '{}'}).then(r => r.status)"
        )
        assert status == 403
        assert daemon.info("ticker")["statename"] == "RUNNING"
    finally:
        context.close()


def test_a_post_from_another_origin_is_refused(browser: Any, daemon: BrowserDaemon) -> None:
    """A page of another origin (localhost is not 127.0.0.1) with the credentials cached:
    its JSON POST never leaves the preflight, its form-like POST is refused by the daemon."""
    context = browser.new_context(http_credentials=ADMIN)
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{daemon.port}/ok.html")
        target = f"{daemon.url}api/v1/processes/idle/start"
        outcome = page.evaluate(
            """async (url) => {
                const json = await fetch(url, {method: 'POST', credentials: 'include',
                    headers: {'Content-Type': 'application/json'}, body: '{}'})
                  .then(() => 'sent', () => 'blocked');
                const simple = await fetch(url, {method: 'POST', mode: 'no-cors',
                    credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: '{}'})
                  .then(r => r.type, () => 'blocked');
                return [json, simple];
            }""",
            target,
        )
        assert outcome[0] == "blocked", outcome
        assert outcome[1] in ("opaque", "blocked"), outcome
        assert daemon.info("idle")["statename"] == "STOPPED"
        assert "idle" not in (daemon.tmp / "d.log").read_text().split("spawned:")[-1]
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(
    browser: Any, daemon: BrowserDaemon, scheme: str
) -> None:
    context = browser.new_context(http_credentials=ADMIN, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(daemon.url)
        expect(page.locator("tr.row")).to_have_count(8)
        expect(row(page, "ticker").locator(".badge")).to_have_text("running")
        row(page, "ticker").get_by_role("button", name="Logs of ticker", exact=True).click()
        expect(page.locator("#log-lines .line").first).to_contain_text("tick")
        page.fill("#log-search", "tick")
        page.get_by_role("button", name="Main log", exact=True).click()
        expect(page.locator("#mainlog-text")).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:"))
        violations = axe_violations(page)
        assert violations == [], violations
    finally:
        context.close()


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations, injected through the test driver (the
    page's policy allows no script but its own)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.id + ': ' + v.help + ' @ ' +
                   v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    return list(found)


def test_a_lost_connection_shows_a_banner_and_recovers_after_a_restart(
    page: Any, daemon: BrowserDaemon
) -> None:
    """Last in the module: the daemon restarts (SIGHUP) under the open page."""
    banner = page.locator("#banner")
    expect(banner).to_be_hidden()
    old = daemon.info("worker")["pid"]
    os.kill(daemon.pid, signal.SIGHUP)
    expect(banner).to_be_visible(timeout=10000)
    expect(banner).to_contain_text("lost")

    def restarted() -> int:
        try:
            pid = int(daemon.info("worker")["pid"])
        except OSError:
            return 0
        return pid if pid and pid != old else 0

    new = wait_until(restarted, what="worker started again by the restarted daemon")
    expect(banner).to_be_hidden(timeout=20000)
    expect(row(page, "worker").locator(".c-pid")).to_have_text(str(new))
    # and it is live again: a change after the restart still reaches the page
    daemon.rpc().supervisor.stopProcess("worker")
    expect(row(page, "worker").locator(".badge")).to_have_text("stopped")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
