"""One chromium per browser test module; each module starts the daemon it needs.

Playwright's sync API keeps an event loop running in the test process for as long as it is
open, and asyncio.run() refuses to start under it: every asyncio test that ran after it in
the same worker failed. So the browser lives no longer than its module, and the browser
modules run together on one worker (the ``browser`` xdist group, `make test` passes
``--dist loadgroup``), closing it before the worker goes on with anything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.support import launch_chromium


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith("tests/browser/"):
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
