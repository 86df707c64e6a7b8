"""The main log: Supervisor's records and rotation (compared file for file), echo, syslog,
reopen, clear, and messages held until the log exists."""

from __future__ import annotations

import io
import os
import random
import re
import syslog
from pathlib import Path

import pytest

from tests.output.support import run_reference
from vigil.config.model import LogLevel, SupervisordConfig
from vigil.services.mainlog import MainLogger, PendingLog, format_record, syslog_records

LOG_WITH_SUPERVISOR = """
import json, sys, time
from supervisor import loggers
spec = json.load(sys.stdin)
logger = loggers.getLogger(spec["level"])
loggers.handle_file(logger, spec["path"], "%(asctime)s %(levelname)s %(message)s\\n",
                    rotating=bool(spec["maxbytes"]), maxbytes=spec["maxbytes"],
                    backups=spec["backups"])
methods = {50: logger.critical, 40: logger.error, 30: logger.warn, 20: logger.info,
           10: logger.debug, 5: logger.trace, 3: logger.blather}
for when, level, message in spec["records"]:
    time.time = lambda when=when: when
    methods[level](message)
logger.close()
print("null")
"""


class SetClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return 0.0

    def time(self) -> float:
        return self.now


def records(seed: int, count: int) -> list[tuple[float, int, str]]:
    rng = random.Random(seed)
    levels = [int(level) for level in LogLevel]
    words = ["spawned:", "'web'", "with pid 4242", "exited", "é", "multi\nline", "%s", "x" * 40]
    out = []
    for n in range(count):
        when = 1_700_000_000 + n * 3.7 + rng.choice([0.0, 0.0005, 0.123, 0.9999])
        message = " ".join(rng.choices(words, k=rng.randint(1, 6)))
        out.append((when, rng.choice(levels), message))
    return out


@pytest.mark.parametrize(("level", "maxbytes", "backups"), [(20, 0, 0), (3, 600, 2), (30, 500, 0)])
def test_records_and_rotation_match_supervisor(
    tmp_path: Path, level: int, maxbytes: int, backups: int
) -> None:
    entries = records(level, 120)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    clock = SetClock()
    logger = MainLogger(
        str(ours / "supervisord.log"),
        level=LogLevel(level),
        maxbytes=maxbytes,
        backups=backups,
        clock=clock,
    )
    for when, lvl, message in entries:
        clock.now = when
        logger.log(LogLevel(lvl), message)
    logger.close()
    run_reference(
        LOG_WITH_SUPERVISOR,
        {
            "path": str(theirs / "supervisord.log"),
            "level": level,
            "maxbytes": maxbytes,
            "backups": backups,
            "records": entries,
        },
    )
    mine = {p.name: p.read_bytes() for p in sorted(ours.iterdir())}
    assert mine == {p.name: p.read_bytes() for p in sorted(theirs.iterdir())}
    assert mine["supervisord.log"] or maxbytes
    if maxbytes and backups:
        assert f"supervisord.log.{backups}" in mine


def test_record_format() -> None:
    record = format_record(1_700_000_000.25, LogLevel.WARN, "hello")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,250 WARN hello\n", record)
    for level in LogLevel:
        assert f" {level.name} " in format_record(0.0, level, "m")


def test_level_filter_and_echo(tmp_path: Path) -> None:
    echo = io.StringIO()
    logger = MainLogger(str(tmp_path / "d.log"), level=LogLevel.INFO, echo=echo)
    logger.log(LogLevel.DEBG, "hidden")
    logger.log(LogLevel.INFO, "shown")
    logger.close()
    assert echo.getvalue().endswith(" INFO shown\n") and "hidden" not in echo.getvalue()
    assert (tmp_path / "d.log").read_text() == echo.getvalue()
    assert logger.enabled_for(LogLevel.WARN) and not logger.enabled_for(LogLevel.DEBG)


def test_echo_only_in_the_foreground_and_not_silent(tmp_path: Path) -> None:
    def echoes(nodaemon: bool, silent: bool) -> bool:
        stdout = io.StringIO()
        config = SupervisordConfig(
            logfile=str(tmp_path / "s.log"), nodaemon=nodaemon, silent=silent
        )
        logger = MainLogger.from_config(config, stdout=stdout)
        logger.log(LogLevel.INFO, "hi")
        logger.close()
        return bool(stdout.getvalue())

    assert echoes(nodaemon=True, silent=False)
    assert not echoes(nodaemon=True, silent=True)
    assert not echoes(nodaemon=False, silent=False)


def test_syslog_target_sends_one_message_per_line() -> None:
    sent: list[tuple[int, str]] = []
    logger = MainLogger(
        "syslog", clock=SetClock(), syslog_send=lambda p, m: sent.append((p, m))
    )
    logger.log(LogLevel.ERRO, "bad\nworse\n")
    logger.log(LogLevel.INFO, "fine")
    stamp = format_record(1_700_000_000.0, LogLevel.INFO, "")[:23]
    assert sent == [
        (syslog.LOG_ERR, f"{stamp} ERRO bad"),
        (syslog.LOG_ERR, f"{stamp} ERRO worse"),
        (syslog.LOG_INFO, f"{stamp} INFO fine"),
    ]
    assert syslog_records(0.0, LogLevel.WARN, "a\n\nb")[1].endswith(" WARN ")
    assert logger.path == "syslog"


def test_a_non_seekable_target_is_written_without_rotation(tmp_path: Path) -> None:
    fifo = tmp_path / "stdout"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        logger = MainLogger(str(fifo), maxbytes=10, backups=3, clock=SetClock())
        logger.log(LogLevel.INFO, "one")
        logger.log(LogLevel.INFO, "two")
        logger.close()
        lines = os.read(reader, 10_000).decode().splitlines()
        assert [line[24:] for line in lines] == ["INFO one", "INFO two"]
        assert logger.error is None
        assert sorted(p.name for p in tmp_path.iterdir()) == ["stdout"]
    finally:
        os.close(reader)


def test_reopen_after_an_external_move(tmp_path: Path) -> None:
    path = tmp_path / "supervisord.log"
    logger = MainLogger(str(path))
    logger.log(LogLevel.INFO, "before")
    path.rename(tmp_path / "old.log")
    logger.reopen()
    logger.log(LogLevel.INFO, "after")
    logger.close()
    old = (tmp_path / "old.log").read_text()
    assert old.endswith(" INFO supervisord logreopen\n") and "before" in old
    assert path.read_text().endswith(" INFO after\n") and path.read_text().count("\n") == 1


def test_clear_empties_the_file(tmp_path: Path) -> None:
    path = tmp_path / "supervisord.log"
    echo = io.StringIO()
    logger = MainLogger(str(path), echo=echo, maxbytes=10_000, backups=1)
    logger.log(LogLevel.INFO, "old news")
    logger.clear()
    assert path.read_bytes() == b""
    logger.log(LogLevel.INFO, "new")
    logger.close()
    assert path.read_text().endswith(" INFO new\n") and "old" not in path.read_text()
    assert echo.getvalue().splitlines()[1].endswith(" INFO reopening log file")


def test_an_unopenable_main_log_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        MainLogger(str(tmp_path / "missing" / "supervisord.log"))


def test_messages_before_the_log_exists_are_replayed(tmp_path: Path) -> None:
    pending = PendingLog()
    pending.log(LogLevel.WARN, "Included extra file")
    pending.log(LogLevel.DEBG, "too detailed")
    logger = MainLogger(str(tmp_path / "s.log"), level=LogLevel.INFO)
    pending.replay(logger)
    logger.close()
    text = (tmp_path / "s.log").read_text()
    assert text.endswith(" WARN Included extra file\n") and "too detailed" not in text
    assert pending.entries == []


def test_messages_that_cannot_be_encoded_never_raise(tmp_path: Path) -> None:
    raw = io.BytesIO()
    echo = io.TextIOWrapper(raw, encoding="utf-8")  # strict: refuses lone surrogates
    path = tmp_path / "s.log"
    logger = MainLogger(str(path), echo=echo)
    logger.log(LogLevel.INFO, "file /tmp/\udcff")
    logger.log(LogLevel.INFO, "lone \ud800")
    logger.close()
    # An undecodable file name is written back as its original byte.
    lines = path.read_bytes().splitlines()
    assert lines[0].endswith(b" INFO file /tmp/\xff")
    assert lines[1].endswith(b" INFO lone \\ud800")
    assert raw.getvalue().splitlines()[0].endswith(b" INFO file /tmp/\\udcff")
    sent: list[str] = []
    to_syslog = MainLogger("syslog", syslog_send=lambda _, line: sent.append(line))
    to_syslog.log(LogLevel.INFO, "a\x00b \ud800")
    assert sent[0].endswith(" INFO a\\x00b \\ud800")
