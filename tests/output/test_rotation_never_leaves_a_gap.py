"""Rotation of a flooding child's log, through a real daemonized vigil: at every instant each
retained name (``x.log``, ``x.log.1`` ... ) exists, and the retained files read oldest to
newest are exactly the stream the child wrote, no byte lost or repeated.

Supervisor (and vigil before) removed or renamed a name away and only then put the next file
under it, so a reader polling the files (``tail -F``, a log shipper) found a backup missing
for up to tens of milliseconds at a time during a flood.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from tests.daemon.detached import DetachedDaemon
from tests.support import wait_until

RECORDS = 5_000_000  # 10-byte numbered lines: 50 MB, dozens of rotations at any read size
MAXBYTES = 65536
BACKUPS = 400  # more than the files the stream fills: every byte is retained
SAMPLES = 300_000  # the sampler's bounds: whichever comes first ends it
SAMPLING_SECONDS = 60.0
DEADLINE = 60.0

WRITER = """\
import os, sys
data = b"".join(b"%09d\\n" % n for n in range(int(sys.argv[1])))
for start in range(0, len(data), 8192):
    os.write(1, data[start:start + 8192])
open(sys.argv[2], "w").close()
"""


def stream() -> bytes:
    return b"".join(b"%09d\n" % n for n in range(RECORDS))


def sample_names(log: Path, finished: Path) -> tuple[int, int, list[str]]:
    """Check, sample after sample, that every name seen so far still exists; return the
    number of samples, the highest backup seen, and the first misses (name, sample)."""
    highest = 0
    missing: list[str] = []
    samples = 0
    deadline = time.monotonic() + SAMPLING_SECONDS
    while samples < SAMPLES and time.monotonic() < deadline and len(missing) < 20:
        samples += 1
        for name in [str(log)] + [f"{log}.{number}" for number in range(1, highest + 1)]:
            if not os.path.exists(name):
                missing.append(f"{Path(name).name} at sample {samples}")
        if os.path.exists(f"{log}.{highest + 1}"):
            highest += 1
        if finished.exists():
            break
    return samples, highest, missing


def retained(log: Path) -> bytes:
    backups = sorted(
        (path for path in log.parent.glob(f"{log.name}.*") if path.suffix[1:].isdigit()),
        key=lambda path: int(path.suffix[1:]),
        reverse=True,
    )
    return b"".join(path.read_bytes() for path in [*backups, log])


def test_every_retained_name_exists_while_a_flood_rotates(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    finished = tmp_path / "finished"
    (tmp_path / "writer.py").write_text(WRITER)
    body = f"""
        [program:x]
        command={sys.executable} {tmp_path / "writer.py"} {RECORDS} {finished}
        startsecs=0
        autorestart=false
        stdout_logfile={log}
        stdout_logfile_maxbytes={MAXBYTES}
        stdout_logfile_backups={BACKUPS}
    """
    daemon = DetachedDaemon(tmp_path, body)
    quiet_main_log(daemon.conf)
    daemon.start()
    try:
        samples, highest, missing = sample_names(log, finished)
        assert not missing, f"retained names missing during rotation: {missing}"
        assert highest >= 10, f"the flood rotated only {highest} times in {samples} samples"
        daemon.wait_state("x", "EXITED", timeout=DEADLINE)
        check_retained(log)
    finally:
        daemon.stop()
    leftovers = [path.name for path in tmp_path.iterdir() if path.name.startswith(".x.log")]
    assert not leftovers, f"rotation left files behind: {leftovers}"
    main_log = (tmp_path / "supervisord.log").read_text(errors="replace")
    assert " ERRO " not in main_log, main_log  # no write or rotation failure was reported
    assert "success: x entered RUNNING state" in main_log, main_log
    assert "exited: x (exit status 0; expected)" in main_log, main_log


def check_retained(log: Path) -> None:
    """Once the daemon has logged all it will, the retained files are the exact stream."""
    expected = stream()
    total = len(expected)
    with contextlib.suppress(AssertionError):  # what was lost shows in the comparison below
        wait_until(lambda: len(retained(log)) >= total, DEADLINE, "the whole stream logged")
    content = retained(log)
    assert len(content) == total, f"{len(content)} bytes retained of {total} written"
    assert content == expected, "the retained files are not the stream as written"


def quiet_main_log(conf: Path) -> None:
    """INFO instead of the harness's DEBG: a copy of 15 MB of output in the main log would
    only slow the flood down."""
    conf.write_text(conf.read_text().replace("loglevel=debug", "loglevel=info", 1))
