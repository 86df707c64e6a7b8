"""Write the dashboard's screenshots (light, dark, phone) into docs/screenshots/:
``python -m tests.browser.screenshots``. A daemon with a few programs, one of them in
trouble, and the log viewer open on a chatty one."""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.support import ADMIN, browser_daemon, launch_chromium

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

PROGRAMS = """
[program:api]
command=sh -c 'i=0; while :; do i=$((i+1)); echo "GET /orders/$i 200 in 3ms"; sleep 0.3; done'
startsecs=0

[program:worker]
command=sh -c 'while :; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.2; done'
numprocs=3
process_name=worker_%(process_num)d
startsecs=0

[program:cron]
command=sleep 1000
autostart=false

[program:mailer]
command=sh -c 'echo "cannot reach smtp.example.com" >&2; exit 3'
startretries=1
startsecs=1
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir="/tmp") as tmp,
        browser_daemon(Path(tmp), PROGRAMS) as daemon,
        sync_playwright() as playwright,
    ):
        daemon.wait_state("mailer", "FATAL")
        browser = launch_chromium(playwright)
        shots = (
            ("light", {"width": 1280, "height": 760}, False),
            ("dark", {"width": 1280, "height": 760}, False),
            ("phone", {"width": 390, "height": 844}, True),
        )
        for name, viewport, mobile in shots:
            context = browser.new_context(
                http_credentials=ADMIN,
                color_scheme="dark" if name == "dark" else "light",
                viewport=viewport,
                is_mobile=mobile,
                device_scale_factor=1,
            )
            page = context.new_page()
            page.goto(daemon.url)
            expect(page.locator('tr[data-ns="worker:worker_2"] .c-mem')).not_to_have_text("—")
            page.wait_for_function(
                "() => document.querySelector('tr[data-ns=\"api\"] .spark polyline')"
                ".getAttribute('points').split(' ').length >= 4",
                timeout=20000,
            )
            if not mobile:
                page.get_by_role("button", name="Logs of api", exact=True).click()
                expect(page.locator("#log-lines .line").nth(5)).to_be_visible()
                page.fill("#log-search", "200")
            page.screenshot(path=str(OUT / f"dashboard-{name}.png"))
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
