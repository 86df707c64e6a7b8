"""The guard's reading of a first request head, piece by piece as a slow client sends it."""

from __future__ import annotations

import pytest

from vigil.http.guard import _HeadWatch


def feed(*pieces: bytes) -> list[str]:
    watch = _HeadWatch()
    return [watch.feed(piece) for piece in pieces]


@pytest.mark.parametrize(
    ("pieces", "outcome"),
    [
        ((b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",), ["complete"]),
        ((b"\r\n", b"\r\n", b"GET / HTTP/1.0\r\n\r\n"), ["more", "more", "complete"]),
        ((b"GET / HT", b"TP/1.1\r", b"\n", b"\r", b"\n"), ["more"] * 4 + ["complete"]),
        ((b"POST /RPC2 HTTP/1.1\n", b"A: b\n\n"), ["more", "complete"]),
        ((b"GET / HTTP/1.1\r\nA: b\r\n\r",), ["more"]),
        ((b"GET /ok.html\r\n\r\n",), ["bad"]),
        ((b"GARBAGE\r\n",), ["bad"]),
        ((b"\x16\x03\x01",), ["bad"]),  # a TLS handshake: bad before any line end
        ((b"GET /" + b"x" * 9000,), ["bad"]),
    ],
)
def test_head_watch(pieces: tuple[bytes, ...], outcome: list[str]) -> None:
    assert feed(*pieces) == outcome
