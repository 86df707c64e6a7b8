"""The dashboard with 500 programs (250 alone, 25 groups of 10): measured in the page, the
table is built and laid out well under 300 ms, and it stays usable (filtering)."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.support import ADMIN, BrowserDaemon, browser_daemon

ALONE = 250
GROUPS = 25
PER_GROUP = 10
TOTAL = ALONE + GROUPS * PER_GROUP
# The bound the dashboard promises, for the median of three loads on a busy 2-core machine.
RENDER_BOUND_MS = 300


def programs() -> str:
    alone = "".join(
        f"[program:solo{index:03d}]\ncommand=sleep 1000\nautostart=false\n\n"
        for index in range(ALONE)
    )
    groups = "".join(
        f"[program:pool{index:02d}]\ncommand=sleep 1000\nautostart=false\n"
        f"numprocs={PER_GROUP}\nprocess_name=pool{index:02d}_%(process_num)d\n\n"
        for index in range(GROUPS)
    )
    return alone + groups


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserDaemon]:
    with browser_daemon(tmp_path_factory.mktemp("scale"), programs()) as started:
        yield started


def render_ms(page: Any, url: str) -> float:
    page.goto(url)
    expect(page.locator("tr.row")).to_have_count(TOTAL, timeout=30000)
    duration: float = page.evaluate(
        "performance.getEntriesByType('measure')"
        ".filter(m => m.name.startsWith('vigil-render-'))[0].duration"
    )
    return duration


def test_five_hundred_programs_render_in_under_300_ms(
    browser: Any, daemon: BrowserDaemon
) -> None:
    context = browser.new_context(http_credentials=ADMIN)
    try:
        page = context.new_page()
        times = [render_ms(page, daemon.url) for _ in range(3)]
        median = statistics.median(times)
        print(f"render of {TOTAL} programs: {[round(t, 1) for t in times]} ms, median {median:.1f}")
        assert median < RENDER_BOUND_MS, times
        page.fill("#filter-text", "pool07_")
        expect(page.locator("tr.row:visible")).to_have_count(PER_GROUP)
        expect(page.locator("tbody[data-group]:visible")).to_have_count(1)
    finally:
        context.close()
