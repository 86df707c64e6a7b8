"""The listener protocol codec on its own: envelopes byte for byte, and every way a listener's
stdout can move it between READY, BUSY, ACKNOWLEDGED and UNKNOWN."""

from __future__ import annotations

import pytest

from vigil.config.model import LogLevel
from vigil.core.events import ProcessStateChanged, RemoteCommunication, SupervisorStateChanged
from vigil.core.listener_protocol import (
    DEFAULT_RESULT_HANDLER,
    HandlerError,
    ListenerProtocol,
    ProtocolEffect,
    Release,
    default_handler,
    envelope,
    result_handler,
)
from vigil.core.machine import Log
from vigil.core.states import ListenerState, ProcessState

UNKNOWN_WARNING = (
    "l: has entered the UNKNOWN state and will no longer receive events, this usually "
    "indicates the process violated the eventlistener protocol"
)


def logs(effects: list[ProtocolEffect]) -> list[tuple[LogLevel, str]]:
    return [(e.level, e.message) for e in effects if isinstance(e, Log)]


def releases(effects: list[ProtocolEffect]) -> list[Release]:
    return [e for e in effects if isinstance(e, Release)]


def busy(protocol: ListenerProtocol) -> ListenerProtocol:
    protocol.feed(b"READY\n")
    protocol.sent()
    return protocol


def test_envelope_is_supervisors_header_and_payload() -> None:
    event = ProcessStateChanged(
        "p", "p", ProcessState.STARTING, ProcessState.RUNNING, 10149, 0, True, at=1_700_000_000.0
    )
    assert envelope("supervisor", 9, "l", 9, event) == (
        b"ver:3.0 server:supervisor serial:9 pool:l poolserial:9 "
        b"eventname:PROCESS_STATE_RUNNING len:55\n"
        b"processname:p groupname:p from_state:STARTING pid:10149"
    )


def test_envelope_of_an_empty_payload_has_len_0() -> None:
    data = envelope("host-a", 0, "pool", 3, SupervisorStateChanged(running=True))
    assert data == (
        b"ver:3.0 server:host-a serial:0 pool:pool poolserial:3 "
        b"eventname:SUPERVISOR_STATE_CHANGE_RUNNING len:0\n"
    )


def test_envelope_len_counts_characters_as_supervisor_does() -> None:
    # Supervisor issue #1243: len counts characters; childutils-based listeners rely on it
    event = RemoteCommunication("t", "h\u00e9llo \u2603")
    data = envelope("supervisor", 1, "l", 1, event)
    header, body = data.split(b"\n", 1)
    assert body == "type:t\nh\u00e9llo \u2603".encode()
    assert header.endswith(b" len:14")
    assert len(body) == 17 and len(event.payload()) == 14


def test_a_listener_starts_acknowledged_and_ready_makes_it_ready() -> None:
    protocol = ListenerProtocol("l")
    assert protocol.state is ListenerState.ACKNOWLEDGED
    effects = protocol.feed(b"READY\n")
    assert protocol.state is ListenerState.READY
    assert logs(effects) == [(LogLevel.DEBG, "l: ACKNOWLEDGED -> READY")]


def test_ready_split_across_reads_waits_for_the_whole_token() -> None:
    protocol = ListenerProtocol("l")
    assert protocol.feed(b"REA") == []
    assert protocol.state is ListenerState.ACKNOWLEDGED
    protocol.feed(b"DY\n")
    assert protocol.state is ListenerState.READY


def test_ok_result_acknowledges_and_a_following_ready_is_read_in_the_same_chunk() -> None:
    protocol = busy(ListenerProtocol("l"))
    effects = protocol.feed(b"RESULT 2\nOKREADY\n")
    assert protocol.state is ListenerState.READY
    assert logs(effects) == [
        (LogLevel.DEBG, "l: event was processed"),
        (LogLevel.DEBG, "l: BUSY -> ACKNOWLEDGED"),
        (LogLevel.DEBG, "l: ACKNOWLEDGED -> READY"),
    ]
    assert releases(effects) == [Release(requeue=False), Release(requeue=False)]


def test_result_bytes_may_come_one_at_a_time() -> None:
    protocol = busy(ListenerProtocol("l"))
    for byte in b"RESULT 4\nFAI":
        assert protocol.feed(bytes([byte])) == []
        assert protocol.state is ListenerState.BUSY
    effects = protocol.feed(b"L")
    assert protocol.state is ListenerState.ACKNOWLEDGED
    assert logs(effects)[0] == (LogLevel.WARN, "l: event was rejected")
    assert releases(effects) == [Release(requeue=True)]


def test_an_empty_result_is_judged_at_once_and_rejected() -> None:
    protocol = busy(ListenerProtocol("l"))
    effects = protocol.feed(b"RESULT 0\n")
    assert protocol.state is ListenerState.ACKNOWLEDGED
    assert releases(effects) == [Release(requeue=True)]


def test_result_payload_may_contain_newlines_and_token_words() -> None:
    seen: list[bytes] = []

    def handler(result: bytes) -> bool:
        seen.append(result)
        return True

    protocol = busy(ListenerProtocol("l", handler))
    protocol.feed(b"RESULT 14\nREADY\nRESULT 1")
    assert seen == [b"READY\nRESULT 1"]
    assert protocol.state is ListenerState.ACKNOWLEDGED


@pytest.mark.parametrize("line", [b"RESULT x", b"RESULT ", b"GARBAGE", b"RESULT -3"])
def test_a_bad_result_line_makes_it_unknown_and_returns_the_event(line: bytes) -> None:
    protocol = busy(ListenerProtocol("l"))
    effects = protocol.feed(line + b"\nREADY\n")
    assert protocol.state is ListenerState.UNKNOWN
    assert logs(effects) == [
        (LogLevel.WARN, f"l: bad result line: '{line.decode()}'"),
        (LogLevel.DEBG, "l: BUSY -> UNKNOWN"),
        (LogLevel.WARN, UNKNOWN_WARNING),
    ]
    assert releases(effects) == [Release(requeue=True)]


def test_an_undecodable_result_line_is_shown_as_bytes() -> None:
    protocol = busy(ListenerProtocol("l"))
    effects = protocol.feed(b"\xff\xfe\n")
    assert logs(effects)[0] == (LogLevel.WARN, "l: bad result line: 'Undecodable: b'\\xff\\xfe''")


def test_the_word_result_itself_is_not_checked_as_in_supervisor() -> None:
    protocol = busy(ListenerProtocol("l"))
    protocol.feed(b"ANSWER 2\nOK")
    assert protocol.state is ListenerState.ACKNOWLEDGED


def test_anything_but_ready_while_acknowledged_is_a_violation() -> None:
    protocol = ListenerProtocol("l")
    effects = protocol.feed(b"HELLO!\nREADY\n")
    assert protocol.state is ListenerState.UNKNOWN
    assert logs(effects) == [
        (LogLevel.DEBG, "l: ACKNOWLEDGED -> UNKNOWN"),
        (LogLevel.WARN, UNKNOWN_WARNING),
    ]


def test_speaking_while_ready_is_a_violation() -> None:
    protocol = ListenerProtocol("l")
    protocol.feed(b"READY\n")
    effects = protocol.feed(b"x")
    assert protocol.state is ListenerState.UNKNOWN
    assert releases(effects) == [Release(requeue=False)]


def test_unknown_is_sticky_until_restart() -> None:
    protocol = ListenerProtocol("l")
    protocol.feed(b"nonsense")
    assert protocol.feed(b"READY\n") == []
    assert protocol.state is ListenerState.UNKNOWN
    protocol.restart()
    assert protocol.state is ListenerState.ACKNOWLEDGED
    protocol.feed(b"READY\n")
    assert protocol.state is ListenerState.READY


def test_restart_forgets_a_half_read_result() -> None:
    protocol = busy(ListenerProtocol("l"))
    protocol.feed(b"RESULT 5\nab")
    protocol.restart()
    protocol.feed(b"READY\n")
    assert protocol.state is ListenerState.READY


def test_a_handler_error_makes_it_unknown_and_returns_the_event() -> None:
    def broken(result: bytes) -> bool:
        raise HandlerError(result)

    protocol = busy(ListenerProtocol("l", broken))
    effects = protocol.feed(b"RESULT 2\nOK")
    assert protocol.state is ListenerState.UNKNOWN
    assert logs(effects)[0] == (LogLevel.WARN, "l: event caused an error")
    assert releases(effects) == [Release(requeue=True)]


def test_the_default_handler_accepts_only_ok() -> None:
    assert default_handler(b"OK")
    assert not default_handler(b"ok")
    assert not default_handler(b"OK\n")
    assert not default_handler(b"FAIL")
    assert result_handler(DEFAULT_RESULT_HANDLER) is default_handler


def test_an_unknown_result_handler_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match=r"result_handler mypkg\.mod:judge cannot be resolved"):
        result_handler("mypkg.mod:judge")
