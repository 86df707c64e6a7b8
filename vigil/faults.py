"""Supervisor's XML-RPC fault codes, and the one exception every layer raises for them."""

from __future__ import annotations

from enum import IntEnum


class Faults(IntEnum):
    UNKNOWN_METHOD = 1
    INCORRECT_PARAMETERS = 2
    BAD_ARGUMENTS = 3
    SIGNATURE_UNSUPPORTED = 4
    SHUTDOWN_STATE = 6
    BAD_NAME = 10
    BAD_SIGNAL = 11
    NO_FILE = 20
    NOT_EXECUTABLE = 21
    FAILED = 30
    ABNORMAL_TERMINATION = 40
    SPAWN_ERROR = 50
    ALREADY_STARTED = 60
    NOT_RUNNING = 70
    SUCCESS = 80
    ALREADY_ADDED = 90
    STILL_RUNNING = 91
    CANT_REREAD = 92
    # vigil addition: a read-only account (readonly_username) asked for something that acts
    UNAUTHORIZED = 100


class RPCError(Exception):
    """A fault as clients see it: faultString is ``NAME`` or ``NAME: extra``."""

    def __init__(self, code: Faults, extra: str | None = None) -> None:
        self.code = code
        self.extra = extra
        self.text = code.name if extra is None else f"{code.name}: {extra}"
        super().__init__(self.text)
