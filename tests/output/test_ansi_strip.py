"""strip_ansi: Supervisor's stripping, but of the whole stream however the reads cut it."""

from __future__ import annotations

import base64
import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.output.support import run_reference
from vigil.services.childlog import AnsiStripper

STRIP_WITH_SUPERVISOR = """
import base64, json, sys
from supervisor.dispatchers import stripEscapes
streams = [base64.b64decode(s) for s in json.load(sys.stdin)]
print(json.dumps([base64.b64encode(stripEscapes(s)).decode() for s in streams]))
"""

ALPHABET = [b"\x1b", b"[", b"\x1b[", b"31", b";", b"m", b"K", b"H", b"x", b"yz", b"\n", b"0"]


def streamed(stream: bytes, cuts: list[int]) -> bytes:
    stripper = AnsiStripper()
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    out = [stripper.feed(stream[a:b]) for a, b in itertools.pairwise(points)]
    return b"".join(out) + stripper.finish()


def random_streams(count: int) -> list[bytes]:
    rng = random.Random(1729)
    return [b"".join(rng.choices(ALPHABET, k=rng.randint(0, 30))) for _ in range(count)]


def test_matches_supervisor_on_whole_streams_cut_anywhere() -> None:
    streams = [
        *random_streams(400),
        b"\x1b[31mred\x1b[0m plain",
        b"\x1b[1;32;40mbold\x1b[K\x1b[2J\x1b[H",
        b"unterminated \x1b[31 rest of it",
        b"\x1b\x1b[1m[",  # stripping joins ESC and [ without starting a new escape
        b"lone escape at the end \x1b",
        b"\x1b]0;title\x07 is not a CSI sequence",
    ]
    expected = run_reference(
        STRIP_WITH_SUPERVISOR, [base64.b64encode(s).decode() for s in streams]
    )
    rng = random.Random(7)
    for stream, want in zip(streams, expected, strict=True):
        want_bytes = base64.b64decode(want)
        assert streamed(stream, []) == want_bytes, stream
        cuts = [rng.randint(0, len(stream)) for _ in range(rng.randint(1, 6))]
        assert streamed(stream, cuts) == want_bytes, (stream, cuts)
        one_byte_reads = list(range(len(stream)))
        assert streamed(stream, one_byte_reads) == want_bytes, stream


def test_an_escape_split_across_reads_does_not_leak() -> None:
    stripper = AnsiStripper()
    assert stripper.feed(b"red \x1b[3") == b"red "
    assert stripper.feed(b"1mtext") == b"text"  # Supervisor logs "1mtext"
    assert stripper.feed(b" \x1b") == b" "
    assert stripper.feed(b"[0mdone") == b"done"
    assert stripper.finish() == b""


def test_a_held_escape_comes_back_when_no_bracket_follows() -> None:
    stripper = AnsiStripper()
    assert stripper.feed(b"a\x1b") == b"a"
    assert stripper.feed(b"b") == b"\x1bb"
    assert stripper.feed(b"\x1b") == b""
    assert stripper.finish() == b"\x1b"


def test_plain_text_passes_untouched() -> None:
    text = b"no escapes here\n" * 100
    assert AnsiStripper().feed(text) is text


@settings(max_examples=300, deadline=None)
@given(
    stream=st.lists(st.sampled_from(ALPHABET), max_size=40).map(b"".join),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=10),
)
def test_cuts_never_change_the_result(stream: bytes, cuts: list[int]) -> None:
    assert streamed(stream, cuts) == streamed(stream, [])
