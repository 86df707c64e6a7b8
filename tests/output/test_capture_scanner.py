"""The capture-mode scanner: tokens found wherever reads cut them, the buffer bounded."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.core.capture import (
    BEGIN_TOKEN,
    END_TOKEN,
    BoundedTail,
    CaptureScanner,
    Segment,
    SegmentKind,
    held_token_prefix,
)

LOG, CAPTURED, PAYLOAD = SegmentKind.LOG, SegmentKind.CAPTURED, SegmentKind.PAYLOAD


def scan(pieces: list[bytes], maxbytes: int = 1000) -> list[Segment]:
    scanner = CaptureScanner(maxbytes)
    out: list[Segment] = []
    for piece in pieces:
        out.extend(scanner.feed(piece))
    out.extend(scanner.finish())
    return out


def merged(segments: list[Segment]) -> list[tuple[SegmentKind, bytes]]:
    """Adjacent pieces of the same kind joined: what no read boundary can change."""
    out: list[tuple[SegmentKind, bytes]] = []
    for segment in segments:
        if out and segment.kind is not PAYLOAD and out[-1][0] is segment.kind:
            out[-1] = (segment.kind, out[-1][1] + segment.data)
        else:
            out.append((segment.kind, segment.data))
    return out


def model(stream: bytes, maxbytes: int) -> list[tuple[SegmentKind, bytes]]:
    """The meaning of a whole stream, written independently of the scanner."""
    out: list[tuple[SegmentKind, bytes]] = []
    capturing = False
    while True:
        token = END_TOKEN if capturing else BEGIN_TOKEN
        before, found, stream = stream.partition(token)
        if before:
            out.append((CAPTURED if capturing else LOG, before))
        if not found:
            return out
        if capturing:
            captured = out[-1][1] if out and out[-1][0] is CAPTURED and before else b""
            out.append((PAYLOAD, captured[-maxbytes:]))
        capturing = not capturing


def test_text_between_the_tokens_becomes_a_payload() -> None:
    stream = b"before " + BEGIN_TOKEN + b"secret" + END_TOKEN + b" after"
    assert merged(scan([stream])) == [
        (LOG, b"before "),
        (CAPTURED, b"secret"),
        (PAYLOAD, b"secret"),
        (LOG, b" after"),
    ]


def test_an_empty_capture_still_completes() -> None:
    assert merged(scan([BEGIN_TOKEN + END_TOKEN])) == [(PAYLOAD, b"")]


def test_output_without_a_token_start_is_released_at_once() -> None:
    # Supervisor holds output back until it has more than a token's length of it.
    scanner = CaptureScanner(100)
    assert scanner.feed(b"hi\n") == [Segment(LOG, b"hi\n")]


def test_a_possible_token_start_waits_for_the_next_read() -> None:
    scanner = CaptureScanner(100)
    assert scanner.feed(b"abc<!--XSUP") == [Segment(LOG, b"abc")]
    assert scanner.feed(b"ERVISOR:BEGIN-->x") == [Segment(CAPTURED, b"x")]
    assert scanner.capturing


def test_a_false_token_start_is_released_when_it_stops_matching() -> None:
    scanner = CaptureScanner(100)
    assert scanner.feed(b"a<!--") == [Segment(LOG, b"a")]
    assert scanner.feed(b"comment-->") == [Segment(LOG, b"<!--comment-->")]


def test_finish_releases_held_bytes_and_drops_an_unfinished_capture() -> None:
    scanner = CaptureScanner(100)
    assert scanner.feed(b"x<!--XSUPERVISOR:") == [Segment(LOG, b"x")]
    assert scanner.finish() == [Segment(LOG, b"<!--XSUPERVISOR:")]
    scanner = CaptureScanner(100)
    scanner.feed(BEGIN_TOKEN + b"never ended")
    assert scanner.finish() == []


def test_the_payload_keeps_the_last_maxbytes_bytes() -> None:
    stream = BEGIN_TOKEN + b"0123456789" + END_TOKEN
    assert merged(scan([stream[:30], stream[30:]], maxbytes=4))[-1] == (PAYLOAD, b"6789")


def test_the_buffer_can_be_cleared_mid_capture() -> None:
    scanner = CaptureScanner(100)
    scanner.feed(BEGIN_TOKEN + b"old")
    scanner.clear_buffer()
    assert scanner.feed(b"new" + END_TOKEN)[-1] == Segment(PAYLOAD, b"new")


def test_the_transform_sees_every_piece_and_shapes_the_payload() -> None:
    class Upper:
        def feed(self, data: bytes) -> bytes:
            return data.upper()

        def finish(self) -> bytes:
            return b""

    scanner = CaptureScanner(100, Upper())
    out = scanner.feed(b"a" + BEGIN_TOKEN + b"b" + END_TOKEN)
    assert out == [Segment(LOG, b"A"), Segment(CAPTURED, b"B"), Segment(PAYLOAD, b"B")]


def test_a_nonpositive_buffer_size_is_refused() -> None:
    with pytest.raises(ValueError, match="capture buffer size must be positive, got 0"):
        CaptureScanner(0)


def test_held_prefix_is_the_longest_proper_prefix_at_the_end() -> None:
    assert held_token_prefix(b"xx<!--XSUPERVISOR:BEGIN--", BEGIN_TOKEN) == len(BEGIN_TOKEN) - 1
    assert held_token_prefix(b"xx<", BEGIN_TOKEN) == 1
    assert held_token_prefix(b"<!--<!", BEGIN_TOKEN) == 2
    assert held_token_prefix(b"plain", BEGIN_TOKEN) == 0
    assert held_token_prefix(b"", BEGIN_TOKEN) == 0


def test_bounded_tail_keeps_exactly_the_last_bytes() -> None:
    tail = BoundedTail(5)
    for piece in (b"ab", b"cd", b"efg", b"", b"hijklmnop", b"q"):
        tail.append(piece)
    assert tail.take() == b"mnopq"
    assert len(tail) == 0


STREAM = (
    b"start " + BEGIN_TOKEN + b"one" + END_TOKEN + b" mid <!-- " + BEGIN_TOKEN + END_TOKEN
    + b"<!--XSUPERVISOR:END-->" + BEGIN_TOKEN + b"two<!--XSUPERVISOR:BEGIN-->" + END_TOKEN
    + b"end<!--XSUPERVISOR:BEG"
)


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_a_single_cut_anywhere_changes_nothing(cut: int) -> None:
    assert merged(scan([STREAM[:cut], STREAM[cut:]], 8)) == model(STREAM, 8)


def test_one_byte_reads_change_nothing() -> None:
    assert merged(scan([STREAM[i : i + 1] for i in range(len(STREAM))], 8)) == model(STREAM, 8)


WORDS = st.sampled_from(
    [BEGIN_TOKEN, END_TOKEN, BEGIN_TOKEN[:5], END_TOKEN[:17], b"<", b"<!--", b"x", b"\n", b"abc"]
)


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(WORDS | st.binary(max_size=12), max_size=25),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    maxbytes=st.integers(min_value=1, max_value=40),
)
def test_any_cuts_give_the_meaning_of_the_whole_stream(
    words: list[bytes], cuts: list[int], maxbytes: int
) -> None:
    stream = b"".join(words)
    points = sorted({min(cut, len(stream)) for cut in cuts} | {0, len(stream)})
    pieces = [stream[a:b] for a, b in itertools.pairwise(points)]
    assert merged(scan(pieces, maxbytes)) == model(stream, maxbytes)
