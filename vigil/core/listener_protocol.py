"""The event listener protocol without I/O: the envelope sent on a listener's stdin, and the
reading of what it answers on stdout (READY, RESULT n, its payload, or garbage).

A listener starts ACKNOWLEDGED; ``READY\\n`` makes it READY; an event sent makes it BUSY;
``RESULT <n>\\n`` followed by n bytes is judged by the pool's result handler and makes it
ACKNOWLEDGED again (or UNKNOWN when the handler fails). Anything else is a protocol violation
and leaves it UNKNOWN, deaf to events until its process is started again. The parser follows
Supervisor's dispatcher decision for decision, so the same bytes lead to the same states and
the same main-log lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vigil.config.model import LogLevel
from vigil.core.events import Event
from vigil.core.machine import Log
from vigil.core.states import ListenerState

PROTOCOL_VERSION = "3.0"
READY_TOKEN = b"READY\n"
RESULT_TOKEN = b"RESULT "
DEFAULT_RESULT_HANDLER = "supervisor.dispatchers:default_handler"


class HandlerError(Exception):
    """A result handler could not judge a result (the listener goes UNKNOWN)."""


# Judges a listener's result: True accepts the event, False rejects it (it is sent again),
# HandlerError means the result made no sense.
ResultHandler = Callable[[bytes], bool]


def default_handler(result: bytes) -> bool:
    """Supervisor's default: ``OK`` accepts, anything else rejects."""
    return result == b"OK"


RESULT_HANDLERS: dict[str, ResultHandler] = {DEFAULT_RESULT_HANDLER: default_handler}


def result_handler(spec: str) -> ResultHandler:
    """The handler a pool's ``result_handler`` names; ValueError for one vigil cannot load."""
    try:
        return RESULT_HANDLERS[spec.strip()]
    except KeyError:
        known = ", ".join(sorted(RESULT_HANDLERS))
        raise ValueError(
            f"result_handler {spec} cannot be resolved: the only result handlers are {known}"
        ) from None


def envelope(server: str, serial: int, pool: str, pool_serial: int, event: Event) -> bytes:
    """The header line and payload a listener receives for one event.

    ``len`` counts the characters of the payload, not its bytes, as Supervisor 4.3.0 does
    (its issue #1243): listeners built on supervisor.childutils, superlance among them, read
    that many characters from a text stdin, and would fall out of step otherwise.
    """
    payload = event.payload()
    header = (
        f"ver:{PROTOCOL_VERSION} server:{server} serial:{serial} pool:{pool} "
        f"poolserial:{pool_serial} eventname:{event.name} len:{len(payload)}\n"
    )
    return (header + payload).encode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Release:
    """The listener is done with the event it held (if any); ``requeue`` puts it back at the
    head of the pool's buffer to be sent again."""

    requeue: bool


ProtocolEffect = Log | Release


class ListenerProtocol:
    """One listener process's side of the conversation, for the life of one child."""

    def __init__(self, name: str, handler: ResultHandler = default_handler) -> None:
        self.name = name
        self._handler = handler
        self.state = ListenerState.ACKNOWLEDGED
        self._pending = b""  # stdout not yet understood
        self._result = b""
        self._result_len: int | None = None

    def restart(self) -> None:
        """A new child: it starts ACKNOWLEDGED, owing us a READY (nothing is logged)."""
        self.state = ListenerState.ACKNOWLEDGED
        self._pending = b""
        self._result = b""
        self._result_len = None

    def sent(self) -> None:
        """An event was written to the listener's stdin."""
        # READY -> BUSY: silent in Supervisor's log too
        self.state = ListenerState.BUSY

    def feed(self, data: bytes) -> list[ProtocolEffect]:
        """Take what the listener wrote on stdout; say what follows from it, in order."""
        self._pending += data
        effects: list[ProtocolEffect] = []
        while self._pending:
            state = self.state
            if state is ListenerState.UNKNOWN:
                self._pending = b""  # sticky: everything is ignored until a restart
            elif state is ListenerState.ACKNOWLEDGED:
                if len(self._pending) < len(READY_TOKEN):
                    break  # not enough to decide yet
                self._acknowledged(effects)
            elif state is ListenerState.READY:
                # READY -> UNKNOWN: it spoke out of turn; be strict, as Supervisor is
                self._change(ListenerState.UNKNOWN, effects)
                self._pending = b""
                effects.append(Release(requeue=False))
            elif not self._busy(effects):
                break
        return effects

    def _acknowledged(self, effects: list[ProtocolEffect]) -> None:
        if self._pending.startswith(READY_TOKEN):
            # ACKNOWLEDGED -> READY: the listener asks for the next event
            self._change(ListenerState.READY, effects)
            self._pending = self._pending[len(READY_TOKEN) :]
        else:
            # ACKNOWLEDGED -> UNKNOWN: anything but READY here is a protocol violation
            self._change(ListenerState.UNKNOWN, effects)
            self._pending = b""
        effects.append(Release(requeue=False))

    def _busy(self, effects: list[ProtocolEffect]) -> bool:
        """Consume a result line or result bytes; False when more input is needed."""
        if self._result_len is None:
            end = self._pending.find(b"\n")
            if end == -1:
                return False  # the result line is not complete yet
            line, self._pending = self._pending[:end], self._pending[end + 1 :]
            length = _result_length(line)
            if length is None:
                self._bad_result_line(line, effects)
                return True
            self._result_len = length
        needed = self._result_len - len(self._result)
        if needed:
            self._result += self._pending[:needed]
            self._pending = self._pending[needed:]
        if len(self._result) < self._result_len:
            return False
        result = self._result
        self._result = b""
        self._result_len = None
        self._judge(result, effects)
        return True

    def _bad_result_line(self, line: bytes, effects: list[ProtocolEffect]) -> None:
        try:
            shown = line.decode("utf-8")
        except UnicodeDecodeError:
            shown = f"Undecodable: {line!r}"
        effects.append(Log(LogLevel.WARN, f"{self.name}: bad result line: '{shown}'"))
        # BUSY -> UNKNOWN: the length is not a number; the event goes back to the pool
        self._change(ListenerState.UNKNOWN, effects)
        self._pending = b""
        effects.append(Release(requeue=True))

    def _judge(self, result: bytes, effects: list[ProtocolEffect]) -> None:
        try:
            accepted = self._handler(result)
        except HandlerError:
            effects.append(Log(LogLevel.WARN, f"{self.name}: event caused an error"))
            # BUSY -> UNKNOWN: the handler could not make sense of the result
            self._change(ListenerState.UNKNOWN, effects)
            effects.append(Release(requeue=True))
            return
        if accepted:
            effects.append(Log(LogLevel.DEBG, f"{self.name}: event was processed"))
        else:
            effects.append(Log(LogLevel.WARN, f"{self.name}: event was rejected"))
        # BUSY -> ACKNOWLEDGED: a result was given; a rejected event is sent again
        self._change(ListenerState.ACKNOWLEDGED, effects)
        effects.append(Release(requeue=not accepted))

    def _change(self, new: ListenerState, effects: list[ProtocolEffect]) -> None:
        old, self.state = self.state, new
        effects.append(Log(LogLevel.DEBG, f"{self.name}: {old.name} -> {new.name}"))
        if new is ListenerState.UNKNOWN:
            effects.append(
                Log(
                    LogLevel.WARN,
                    f"{self.name}: has entered the UNKNOWN state and will no longer receive "
                    "events, this usually indicates the process violated the eventlistener "
                    "protocol",
                )
            )


def _result_length(line: bytes) -> int | None:
    """The n of ``RESULT n``, as Supervisor reads it: whatever follows the first seven bytes
    must be a number (the word itself is not checked). A negative n, which would leave the
    listener BUSY forever, counts as not a number."""
    try:
        length = int(line[len(RESULT_TOKEN) :])
    except ValueError:
        return None
    return length if length >= 0 else None
