"""A child program for the output workloads: writes a known byte stream to stdout and exits.

Run as a script (`python bench/writer.py TOTAL_BYTES`) so that it starts with nothing but the
standard library. The stream is a sequence of 64 KiB chunks, each opening with its own index,
so any byte of it can be recomputed from its offset alone: a log file, or the retained tail
of a rotated one, is checked byte for byte without keeping the stream anywhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

CHUNK = 65536
_LINE = b"the quick brown fox jumps over the lazy supervisor 0123456789\n"
_FILLER = (_LINE * (CHUNK // len(_LINE) + 1))[:CHUNK]


def chunk(index: int) -> bytes:
    """Chunk `index` of every stream: a numbered line, then filler text, CHUNK bytes in all."""
    head = b"%015d\n" % index
    return head + _FILLER[len(head) :]


def stream(total: int, start: int = 0) -> Iterator[bytes]:
    """The bytes [start, total) of a stream of `total` bytes, in pieces of at most CHUNK."""
    offset = start
    while offset < total:
        index, within = divmod(offset, CHUNK)
        piece = chunk(index)[within : within + (total - offset)]
        yield piece
        offset += len(piece)


def write_stream(fd: int, total: int) -> None:
    for piece in stream(total):
        view = memoryview(piece)
        while view:
            view = view[os.write(fd, view) :]


def first_mismatch(paths: list[Path], total: int) -> str | None:
    """Check that `paths`, concatenated in order, are exactly the tail of a `total`-byte
    stream; None if so, else where and how they differ."""
    size = sum(path.stat().st_size for path in paths)
    if size > total:
        return f"{size} bytes retained but only {total} were written"
    expected = stream(total, total - size)
    pending = b""
    position = total - size
    for path in paths:
        with path.open("rb") as file:
            while block := file.read(CHUNK):
                while len(pending) < len(block):
                    pending += next(expected)
                wanted, pending = pending[: len(block)], pending[len(block) :]
                if block != wanted:
                    pairs = zip(block, wanted, strict=True)
                    at = next(i for i, (got, want) in enumerate(pairs) if got != want)
                    return f"{path.name}: byte {position + at} of the stream differs"
                position += len(block)
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: writer.py TOTAL_BYTES", file=sys.stderr)
        return 2
    write_stream(sys.stdout.fileno(), int(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
