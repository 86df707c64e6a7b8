"""Rotation at its edges, file for file against Supervisor 4.3.0: a log removed while it is
written, spare names a crash left half-way through a rotation, a filesystem without hard links.

vigil shifts its backups by linking and renaming (no name is ever missing); what the files
hold afterwards must still be exactly what Supervisor's remove-and-rename leaves.
"""

from __future__ import annotations

import base64
import errno
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.output.support import MemoryLog, run_reference
from vigil.services import logfiles
from vigil.services.childlog import ChildLog, ChildLogSettings

ROTATE_STEPS_WITH_SUPERVISOR = """
import base64, json, os, sys
from supervisor import loggers
spec = json.load(sys.stdin)
directory = os.path.dirname(spec["path"])
logger = loggers.getLogger()
loggers.handle_file(logger, spec["path"], "%(message)s", rotating=True,
                    maxbytes=spec["maxbytes"], backups=spec["backups"])
snapshots = []
for step in spec["steps"]:
    if step.startswith("remove "):
        name = os.path.join(directory, step[len("remove "):])
        if os.path.exists(name):
            os.remove(name)
    else:
        logger.info(base64.b64decode(step))
    snapshots.append({
        name: base64.b64encode(open(os.path.join(directory, name), "rb").read()).decode()
        for name in sorted(os.listdir(directory))
    })
logger.close()
print(json.dumps(snapshots))
"""

MAXBYTES = 10
BACKUPS = 3

# Writes of whole chunks, each rotating once it takes the file to MAXBYTES.
CHUNKS = [b"a" * 6, b"b" * 6, b"c" * 11, b"d" * 4, b"e" * 7, b"f" * 12, b"g" * 3]


def rotate_both(tmp_path: Path, steps: list[bytes | str], prepare: dict[str, bytes]) -> None:
    """Run ``steps`` (a chunk to write, or "remove NAME" to remove that file if it exists)
    through our ChildLog and through Supervisor's handler, each in its own directory, and
    compare every file after every step."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    for name, content in prepare.items():
        (ours / name).write_bytes(content)
    path = ours / "app.log"
    settings = ChildLogSettings(
        name="web", channel="stdout", path=str(path), maxbytes=MAXBYTES, backups=BACKUPS
    )
    log = ChildLog(settings, MemoryLog())
    snapshots = []
    for step in steps:
        if isinstance(step, str):
            (ours / step.removeprefix("remove ")).unlink(missing_ok=True)
        else:
            log.write(step)
        snapshots.append(files_in(ours))
    log.close()
    assert log.error is None
    reference = run_reference(
        ROTATE_STEPS_WITH_SUPERVISOR,
        {
            "path": str(theirs / "app.log"),
            "maxbytes": MAXBYTES,
            "backups": BACKUPS,
            "steps": [s if isinstance(s, str) else base64.b64encode(s).decode() for s in steps],
        },
    )
    for number, (step, mine, snapshot) in enumerate(zip(steps, snapshots, reference, strict=True)):
        expected = {name: base64.b64decode(data) for name, data in snapshot.items()}
        if not prepare or number == len(steps) - 1:  # stale spare names: gone by the end
            assert mine == expected, f"after step {number} ({step!r})"


def files_in(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_a_log_removed_while_written_rotates_to_supervisors_files(tmp_path: Path) -> None:
    # The file in use is removed, more is written to it (now nameless), and it rotates:
    # Supervisor drops .1 then; we must not leave a stale copy of .2 there.
    steps: list[bytes | str] = [*CHUNKS[:3], "remove app.log", *CHUNKS[3:]]
    rotate_both(tmp_path, steps, prepare={})


@pytest.mark.parametrize("seed", range(8))
def test_backups_removed_by_hand_leave_supervisors_holes(tmp_path: Path, seed: int) -> None:
    # A backup removed between writes: the hole moves up with each rotation, as it does
    # when Supervisor renames the names one by one.
    rng = random.Random(seed)
    steps: list[bytes | str] = []
    for number in range(40):
        if rng.random() < 0.3:
            steps.append(f"remove app.log.{rng.randint(1, BACKUPS)}")
        steps.append(bytes([97 + number % 26]) * rng.randint(1, 2 * MAXBYTES))
    rotate_both(tmp_path, steps, prepare={})


def test_spare_names_left_by_a_crash_are_reused_and_gone(tmp_path: Path) -> None:
    stale = {".app.log.new": b"stale new", ".app.log.link": b"stale link"}
    rotate_both(tmp_path, list(CHUNKS), prepare=stale)


def test_a_filesystem_without_hard_links_still_rotates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: str, target: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted", source)

    monkeypatch.setattr(logfiles.os, "link", refuse)
    rotate_both(tmp_path, list(CHUNKS), prepare={})


# The file-system calls of one rotation with three backups: link and rename .2 onto .3, .1
# onto .2, the log onto .1, then the new file onto the log.
ROTATION_CALLS = 7


@pytest.mark.parametrize("failing", range(1, ROTATION_CALLS + 1))
def test_a_rotation_failing_half_way_loses_and_repeats_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    path = tmp_path / "app.log"
    settings = ChildLogSettings(
        name="web", channel="stdout", path=str(path), maxbytes=MAXBYTES, backups=BACKUPS
    )
    log = ChildLog(settings, MemoryLog())
    written: list[bytes] = []

    def write(letters: str) -> None:
        for letter in letters:
            chunk = letter.encode() * MAXBYTES  # each one rotates
            log.write(chunk)
            written.append(chunk)

    write("abcd")
    calls = 0

    def failing_at(real: Callable[[str, str], None]) -> Callable[[str, str], None]:
        def call(source: str, target: str) -> None:
            nonlocal calls
            calls += 1
            if calls == failing:
                raise OSError(errno.ENOSPC, "No space left on device", target)
            real(source, target)

        return call

    with monkeypatch.context() as patched:
        patched.setattr(logfiles.os, "link", failing_at(os.link))
        patched.setattr(logfiles.os, "replace", failing_at(os.replace))
        write("e")
    assert calls == failing
    assert log.error == f"{path}: No space left on device"
    assert_contiguous_tail(path, b"".join(written))
    write("fghij")
    assert log.error is None
    assert_contiguous_tail(path, b"".join(written))
    assert [p.name for p in sorted(tmp_path.iterdir())] == [
        "app.log", "app.log.1", "app.log.2", "app.log.3"
    ]  # fmt: skip


def assert_contiguous_tail(path: Path, stream: bytes) -> None:
    """The retained files, oldest to newest, skipping holes, are the end of the stream: no
    byte lost between them, none under two names, no spare name left."""
    names = [Path(f"{path}.{n}") for n in range(BACKUPS, 0, -1)] + [path]
    present = [name for name in names if name.exists()]
    inodes = [name.stat().st_ino for name in present]
    assert len(set(inodes)) == len(inodes), f"a file under two names: {present}"
    kept = b"".join(name.read_bytes() for name in present)
    assert stream.endswith(kept) and len(kept) >= MAXBYTES
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".")]
