"""A log that cannot be written (a full disk) is reported, and nothing else suffers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import PY, running_daemon, wait_until


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    if os.getuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_log_disk_shows_in_status_and_main_log(tmp_path: Path, full_disk: Path) -> None:
    writer = tmp_path / "writer.py"
    writer.write_text(
        "import sys, time\n"
        "for n in range(100000):\n"
        "    print('x' * 1000, flush=True)\n"
        "    if n % 100 == 0: time.sleep(0.01)\n"
    )
    body = f"""
        [program:writer]
        command={PY} {writer}
        startsecs=0
        stdout_logfile={full_disk}/writer.log
        stdout_logfile_maxbytes=0

        [program:talker]
        command=sleep 600
        startsecs=0
        autostart=false
    """
    with running_daemon(tmp_path, body) as daemon:
        info = wait_until(
            lambda: "No space left on device" in (i := daemon.info("writer"))["description"] and i,
            what="the full disk in writer's description",
        )
        assert info["statename"] == "RUNNING"
        assert info["description"].startswith(f"pid {info['pid']}, uptime ")
        assert (
            f"(stdout log: {full_disk}/writer.log: No space left on device)" in info["description"]
        )
        assert "cannot write stdout log of 'writer'" in daemon.log.read_text()
        assert daemon.rpc().supervisor.startProcess("talker") is True  # the daemon goes on
