"""Reading logs by offset: every offset form compared with Supervisor's readFile/tailFile."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from tests.output.support import run_reference
from vigil.faults import Faults, RPCError
from vigil.services.logread import read_bytes, read_file, tail_bytes, tail_file

# Supervisor's functions with the checks its rpcinterface adds around them (NO_FILE, and the
# missing-file answer of tails).
READ_WITH_SUPERVISOR = """
import base64, json, os, sys
from supervisor.options import readFile, tailFile
spec = json.load(sys.stdin)
out = []
for path, offset, length in spec["reads"]:
    if not os.path.exists(path):
        out.append(["fault", "NO_FILE"])
        continue
    try:
        out.append(["ok", base64.b64encode(readFile(path, offset, length)).decode()])
    except ValueError as exc:
        out.append(["fault", exc.args[0]])
tails = []
for path, offset, length in spec["tails"]:
    if not os.path.exists(path):
        tails.append(["", 0, False])
        continue
    tails.append(tailFile(path, offset, length))
print(json.dumps({"reads": out, "tails": tails}))
"""

SIZES = [0, 1, 100, 1000]
OFFSETS = [-5000, -1001, -1000, -999, -100, -1, 0, 1, 99, 100, 101, 999, 1000, 1001, 5000]
LENGTHS = [-5, -1, 0, 1, 50, 100, 999, 1000, 1001, 5000]


def ours_read(path: str, offset: int, length: int) -> list[str]:
    try:
        return ["ok", base64.b64encode(read_bytes(path, offset, length)).decode()]
    except RPCError as exc:
        return ["fault", exc.code.name]


@pytest.fixture
def logs(tmp_path: Path) -> list[str]:
    paths = []
    for size in SIZES:
        path = tmp_path / f"size{size}.log"
        path.write_bytes(bytes(ord("a") + n % 26 for n in range(size)))
        paths.append(str(path))
    (tmp_path / "directory.log").mkdir()
    return [*paths, str(tmp_path / "directory.log"), str(tmp_path / "missing.log")]


def test_every_offset_form_matches_supervisor(logs: list[str]) -> None:
    cases = [(p, o, n) for p in logs for o in OFFSETS for n in LENGTHS]
    theirs = run_reference(READ_WITH_SUPERVISOR, {"reads": cases, "tails": cases})
    for case, want in zip(cases, theirs["reads"], strict=True):
        assert ours_read(*case) == want, case
    for case, want in zip(cases, theirs["tails"], strict=True):
        assert list(tail_file(*case)) == want, case


def test_faults_name_what_was_wrong(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"hello")
    with pytest.raises(RPCError) as missing:
        read_file(str(tmp_path / "gone.log"), 0, 0)
    assert missing.value.text == f"NO_FILE: {tmp_path / 'gone.log'}"
    with pytest.raises(RPCError) as no_path:
        read_file(None, 0, 0)
    assert no_path.value.text == "NO_FILE"
    with pytest.raises(RPCError) as bad:
        read_file(str(path), -1, 1)
    assert bad.value.code == Faults.BAD_ARGUMENTS
    with pytest.raises(RPCError) as failed:
        read_file(str(tmp_path), 0, 0)
    assert failed.value.text == "FAILED"
    assert tail_file(None, 10, 10) == ("", 0, False)


def test_undecodable_bytes_become_replacement_characters(tmp_path: Path) -> None:
    # Supervisor answers these with an HTTP 500 (strict UTF-8 decoding), typically when a tail
    # starts inside a multi-byte character.
    path = tmp_path / "a.log"
    path.write_bytes("café ".encode() + b"\xff")
    assert read_file(str(path), 0, 0) == "café \ufffd"
    assert tail_file(str(path), 0, 3) == ("\ufffd \ufffd", 7, True)


def test_reads_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_bytes(b"0123456789" * 10)
    assert read_bytes(str(path), 0, 0, limit=7) == b"0123456"
    assert read_bytes(str(path), 5, 50, limit=7) == b"5678901"
    assert read_bytes(str(path), -50, 0, limit=7) == b"3456789"
    assert tail_bytes(str(path), 0, 1000, limit=7) == (b"3456789", 100, True)


def test_a_fifo_reads_as_empty_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "stdout"
    os.mkfifo(fifo)
    assert read_file(str(fifo), 0, 0) == ""
    assert read_file(str(fifo), -100, 0) == ""
    assert tail_file(str(fifo), 0, 100) == ("", 0, False)


def test_a_tail_returns_the_last_bytes_and_the_next_offset(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"first\n")
    assert tail_file(str(path), 0, 1600) == ("first\n", 6, False)
    with path.open("ab") as f:
        f.write(b"second\n")
    # Not just what is new since the offset: up to ``length`` bytes ending at the end.
    assert tail_file(str(path), 6, 1600) == ("first\nsecond\n", 13, False)
    assert tail_file(str(path), 6, 4) == ("ond\n", 13, True)
