"""ChildLog: a child's output in files with Supervisor's rotation, syslog, capture, listeners."""

from __future__ import annotations

import base64
import os
import random
import stat
from pathlib import Path

import pytest

from tests.output.support import (
    MemoryLog,
    child_printing,
    child_writing,
    numbered_lines,
    pump,
    run_reference,
)
from vigil.config.model import LogLevel, ProcessConfig
from vigil.core.capture import BEGIN_TOKEN, END_TOKEN
from vigil.services.childlog import (
    SYSLOG_MAX_LINE,
    ChildLog,
    ChildLogSettings,
    output_debug_message,
    syslog_message,
)

ROTATE_WITH_SUPERVISOR = """
import base64, json, sys
from supervisor import loggers
spec = json.load(sys.stdin)
logger = loggers.getLogger()
loggers.handle_file(logger, spec["path"], "%(message)s", rotating=bool(spec["maxbytes"]),
                    maxbytes=spec["maxbytes"], backups=spec["backups"])
for chunk in spec["chunks"]:
    logger.info(base64.b64decode(chunk))
logger.close()
print("null")
"""


def settings(path: Path | None, **overrides: object) -> ChildLogSettings:
    values: dict[str, object] = {"name": "web", "channel": "stdout", "path": path and str(path)}
    values.update(overrides)
    return ChildLogSettings(**values)  # type: ignore[arg-type]


def files_in(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def retained(path: Path, backups: int) -> bytes:
    """The retained files read oldest to newest."""
    names = [Path(f"{path}.{n}") for n in range(backups, 0, -1)] + [path]
    return b"".join(p.read_bytes() for p in names if p.exists())


def random_chunks(seed: int, total: int, biggest: int) -> list[bytes]:
    rng = random.Random(seed)
    data = numbered_lines(total // 20 + 1)[:total]
    chunks, at = [], 0
    while at < len(data):
        size = rng.randint(1, biggest)
        chunks.append(data[at : at + size])
        at += size
    return chunks


@pytest.mark.parametrize("backups", [0, 1, 3, 10])
def test_rotation_leaves_the_same_files_as_supervisor(tmp_path: Path, backups: int) -> None:
    # 35 MB through 10 MB rotation, scaled down a thousandfold; plus chunks landing exactly
    # on the boundary.
    chunks = [*random_chunks(backups, 35_000, 3_000), b"x" * 10_000, b"y" * 9_999, b"z"]
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    log = ChildLog(settings(ours / "app.log", maxbytes=10_000, backups=backups), MemoryLog())
    for chunk in chunks:
        log.write(chunk)
    log.close()
    run_reference(
        ROTATE_WITH_SUPERVISOR,
        {
            "path": str(theirs / "app.log"),
            "maxbytes": 10_000,
            "backups": backups,
            "chunks": [base64.b64encode(c).decode() for c in chunks],
        },
    )
    assert files_in(ours) == files_in(theirs)
    assert log.error is None


def test_every_byte_from_a_real_pipe_is_kept_in_order_across_backups(tmp_path: Path) -> None:
    # 140 kB in 100-byte writes through 4 kB files, read at most 1 kB at a time so that
    # rotation happens about 30 times whatever the scheduling.
    child = child_writing(child_printing("b''.join(b'%019d\\n' % n for n in range(7000))", 100))
    path = tmp_path / "app.log"
    log = ChildLog(settings(path, maxbytes=4_096, backups=60), MemoryLog())
    pump(child, log, read_size=1_024)
    assert retained(path, 60) == numbered_lines(7_000)
    rotated = [Path(f"{path}.{n}") for n in range(1, 61) if Path(f"{path}.{n}").exists()]
    assert len(rotated) >= 140_000 // (4_096 + 1_024) - 1
    for backup in rotated:
        assert 4_096 <= backup.stat().st_size < 4_096 + 1_024


def test_few_backups_keep_a_contiguous_tail_of_the_output(tmp_path: Path) -> None:
    stream = numbered_lines(5_000)
    child = child_writing(child_printing("b''.join(b'%019d\\n' % n for n in range(5000))", 333))
    path = tmp_path / "app.log"
    log = ChildLog(settings(path, maxbytes=4_096, backups=3), MemoryLog())
    pump(child, log)
    kept = retained(path, 3)
    assert stream.endswith(kept)
    assert len(kept) >= 3 * 4_096
    assert not Path(f"{path}.4").exists()


def test_backups_zero_truncates_in_place(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    log = ChildLog(settings(path, maxbytes=100, backups=0), MemoryLog())
    log.write(b"a" * 60)
    log.write(b"b" * 60)  # reaches 120 >= 100: truncated after the write
    log.write(b"c" * 10)
    log.close()
    assert path.read_bytes() == b"c" * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log"]


def test_zero_maxbytes_never_rotates(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    log = ChildLog(settings(path, maxbytes=0, backups=5), MemoryLog())
    for _ in range(50):
        log.write(b"z" * 1000)
    log.close()
    assert path.stat().st_size == 50_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log"]


def test_existing_content_counts_toward_maxbytes(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"old" * 30)
    log = ChildLog(settings(path, maxbytes=100, backups=1), MemoryLog())
    log.write(b"new" * 5)
    log.close()
    assert Path(f"{path}.1").read_bytes() == b"old" * 30 + b"new" * 5
    assert path.read_bytes() == b""


def test_reopen_after_an_external_move(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    log = ChildLog(settings(path), MemoryLog())
    log.write(b"before\n")
    path.rename(tmp_path / "app.log.old")
    log.write(b"still to the moved file\n")
    log.reopen()
    log.write(b"after\n")
    log.close()
    assert (tmp_path / "app.log.old").read_bytes() == b"before\nstill to the moved file\n"
    assert path.read_bytes() == b"after\n"


def test_clear_removes_the_file_and_starts_again(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    log = ChildLog(settings(path, maxbytes=1000, backups=2), MemoryLog())
    log.write(b"x" * 500)
    log.clear()
    log.write(b"fresh\n")
    log.close()
    assert path.read_bytes() == b"fresh\n"


def test_a_fifo_target_is_written_but_never_rotated(tmp_path: Path) -> None:
    fifo = tmp_path / "stdout"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        log = ChildLog(settings(fifo, maxbytes=10, backups=2), MemoryLog())
        for piece in (b"first line\n", b"second line\n"):
            log.write(piece)
        log.clear()  # must not unlink what is not a regular file (Supervisor would)
        log.write(b"third line\n")
        log.close()
        assert log.error is None
        assert os.read(reader, 1000) == b"first line\nsecond line\nthird line\n"
        assert stat.S_ISFIFO(fifo.stat().st_mode)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["stdout"]
    finally:
        os.close(reader)


def test_strip_ansi_applies_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    log = ChildLog(settings(path, strip_ansi=True), MemoryLog())
    for piece in (b"\x1b[31mred\x1b[", b"0m plain\x1b", b"[1mbold\n"):
        log.write(piece)
    log.close()
    assert path.read_bytes() == b"red plainbold\n"


def test_no_file_still_feeds_syslog_and_listeners() -> None:
    sent: list[str] = []
    seen: list[bytes] = []
    log = ChildLog(
        settings(None, syslog=True), MemoryLog(), on_data=seen.append, syslog_send=sent.append
    )
    for piece in (b"one\ntw", b"o\n\nthr", b"ee"):
        log.write(piece)
    log.close()
    assert sent == ["web one", "web two", "web ", "web three"]
    assert b"".join(seen) == b"one\ntwo\n\nthree"
    assert log.path is None


def test_syslog_message_format() -> None:
    assert syslog_message("web", b"hello") == "web hello"
    assert syslog_message("web", b"caf\xc3\xa9 \xff") == "web café \ufffd"
    assert syslog_message("web", b"a\x00b") == "web a\\x00b"


def test_a_long_line_without_newline_is_sent_in_bounded_pieces() -> None:
    sent: list[str] = []
    log = ChildLog(settings(None, syslog=True), MemoryLog(), syslog_send=sent.append)
    log.write(b"q" * (SYSLOG_MAX_LINE * 2 + 5))
    assert sent == ["web " + "q" * SYSLOG_MAX_LINE] * 2
    log.close()
    assert sent[-1] == "web qqqqq"


def test_main_log_debug_lines_use_supervisors_wording(tmp_path: Path) -> None:
    mainlog = MemoryLog()
    log = ChildLog(settings(tmp_path / "a.log", channel="stderr"), mainlog, mainlog_debug=True)
    log.write(b"hello\n")
    log.write(b"\xff\xfe")
    log.close()
    assert mainlog.at(LogLevel.DEBG) == [
        "'web' stderr output:\nhello\n",
        "'web' stderr output:\nUndecodable: b'\\xff\\xfe'",
    ]
    assert output_debug_message("it's", "stdout", b"x") == '"it\'s" stdout output:\nx'


def test_capture_diverts_text_between_the_tokens(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    mainlog = MemoryLog()
    seen: list[bytes] = []
    payloads: list[bytes] = []
    log = ChildLog(
        settings(path, capture_maxbytes=100, strip_ansi=True),
        mainlog,
        on_data=seen.append,
        on_capture=payloads.append,
    )
    stream = b"log1 " + BEGIN_TOKEN + b"\x1b[1mmsg\x1b[0m" + END_TOKEN + b" log2 <!--XSUP"
    for i in range(len(stream)):
        log.write(stream[i : i + 1])
    log.close()
    assert path.read_bytes() == b"log1  log2 <!--XSUP"
    assert payloads == [b"msg"]
    # Supervisor also hands captured text to PROCESS_LOG listeners.
    assert b"".join(seen) == b"log1 msg log2 <!--XSUP"
    assert mainlog.at(LogLevel.DEBG) == ["'web' stdout emitted a comm event"]


def test_capture_through_a_real_pipe(tmp_path: Path) -> None:
    code = (
        "import os\n"
        "os.write(1, b'a' * 70000 + b'<!--XSUPERVISOR:BEGIN-->')\n"
        "os.write(1, b'payload' * 20000 + b'<!--XSUPERVISOR:END-->tail')\n"
    )
    path = tmp_path / "app.log"
    payloads: list[bytes] = []
    log = ChildLog(settings(path, capture_maxbytes=21), MemoryLog(), on_capture=payloads.append)
    pump(child_writing(code), log)
    assert path.read_bytes() == b"a" * 70000 + b"tail"
    assert payloads == [b"payload" * 3]


def test_settings_come_from_the_process_config() -> None:
    process = ProcessConfig(
        name="api",
        group="g",
        command="x",
        stdout_logfile_maxbytes=1,
        stdout_logfile_backups=2,
        stdout_capture_maxbytes=3,
        stdout_syslog=True,
        stderr_logfile_maxbytes=4,
        stderr_logfile_backups=5,
        stderr_capture_maxbytes=6,
    )
    out = ChildLogSettings.for_channel(process, "stdout", path="/o", strip_ansi=True)
    err = ChildLogSettings.for_channel(process, "stderr", path=None, strip_ansi=False)
    assert out == ChildLogSettings("api", "stdout", "/o", 1, 2, True, 3, True)
    assert err == ChildLogSettings("api", "stderr", None, 4, 5, False, 6, False)
