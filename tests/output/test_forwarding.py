"""forward_output's line assembly on a real pipe: whole lines with their prefix, a partial
line held until its newline, a line over the bound written in pieces with a marker, the last
partial line given a newline at the end; and line timestamps stamped once per line."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from vigil.services import forwarding
from vigil.services.forwarding import ConsoleStream, LineForwarder
from vigil.services.line_stamps import LineStamper


@pytest.fixture
def pipe() -> Iterator[tuple[int, ConsoleStream]]:
    read_end, write_end = os.pipe()
    yield read_end, ConsoleStream(write_end)
    os.close(read_end)
    os.close(write_end)


def _read(fd: int) -> bytes:
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 1 << 20)
    except BlockingIOError:
        return b""


def test_whole_lines_go_out_prefixed_and_a_partial_one_waits(
    pipe: tuple[int, ConsoleStream],
) -> None:
    read_end, console = pipe
    forwarder = LineForwarder("web_0", console)
    forwarder.feed(b"one\ntwo\nthr")
    assert _read(read_end) == b"web_0 | one\nweb_0 | two\n"
    forwarder.feed(b"ee")
    assert _read(read_end) == b""
    forwarder.feed(b"\n\nlast")
    assert _read(read_end) == b"web_0 | three\nweb_0 | \n"
    forwarder.finish()
    assert _read(read_end) == b"web_0 | last\n"


def test_a_line_over_the_bound_is_cut_with_a_marker(
    pipe: tuple[int, ConsoleStream], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forwarding, "PARTIAL_LINE_LIMIT", 10)
    read_end, console = pipe
    forwarder = LineForwarder("p", console)
    forwarder.feed(b"a" * 12)
    forwarder.feed(b"bb\n")
    assert _read(read_end) == b"p | " + b"a" * 12 + b" [...]\np | [...] bb\n"


def test_forwarded_lines_may_carry_a_timestamp(pipe: tuple[int, ConsoleStream]) -> None:
    read_end, console = pipe
    forwarder = LineForwarder("p", console, timestamps=True, clock=lambda: 86400.25)
    forwarder.feed(b"x\ny\n")
    assert _read(read_end) == b"1970-01-02T00:00:00.250Z p | x\n1970-01-02T00:00:00.250Z p | y\n"


def test_lines_split_across_reads_are_stamped_once() -> None:
    times = iter([0.5, 1.0, 2.0, 3.0])
    stamper = LineStamper(clock=lambda: next(times))
    pieces = [b"first\nsec", b"ond\n", b"\nthird", b"!\n"]
    out = b"".join(bytes(stamper.feed(piece)) for piece in pieces)
    assert out == (
        b"1970-01-01T00:00:00.500Z first\n"
        b"1970-01-01T00:00:00.500Z second\n"
        b"1970-01-01T00:00:02.000Z \n"
        b"1970-01-01T00:00:02.000Z third!\n"
    )
