"""Signal intents: what each signal the daemon catches asks for.

SIGTERM, SIGINT and SIGQUIT ask for a shutdown (every program stopped in order, with its
own stopsignal and stopwaitsecs); SIGHUP for a restart into the configuration as it is now;
SIGUSR2 for the logs to be reopened. These are Supervisor's meanings, and in a container
(vigil as PID 1) they are what `docker stop`, Ctrl-C and a reload send: a PID 1 without a
handler would ignore them all.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass

from vigil.config.model import LogLevel
from vigil.core.ports import MainLog
from vigil.core.states import SupervisorState
from vigil.runtime.reaper import quiet_signal_wakeups

SIGNAL_INTENTS = {
    signal.SIGTERM: SupervisorState.SHUTDOWN,
    signal.SIGINT: SupervisorState.SHUTDOWN,
    signal.SIGQUIT: SupervisorState.SHUTDOWN,
    signal.SIGHUP: SupervisorState.RESTARTING,
}


@dataclass(frozen=True)
class SignalActions:
    """What the daemon does for each intent; `accepting` is False once a life is ending."""

    accepting: Callable[[], bool]
    shutdown: Callable[[], None]
    restart: Callable[[], None]
    reopen: Callable[[], None]


def install_signal_intents(
    loop: asyncio.AbstractEventLoop, mainlog: MainLog, actions: SignalActions
) -> Callable[[], None]:
    """Catch the signals; the result removes the handlers again."""

    def on_intent(number: signal.Signals) -> None:
        mood = SIGNAL_INTENTS[number]
        what = "exit" if mood is SupervisorState.SHUTDOWN else "restart"
        mainlog.log(LogLevel.WARN, f"received {number.name} indicating {what} request")
        if not actions.accepting():
            return
        if mood is SupervisorState.RESTARTING:
            actions.restart()
        else:
            actions.shutdown()

    def on_reopen() -> None:
        mainlog.log(LogLevel.INFO, "received SIGUSR2 indicating log reopen request")
        actions.reopen()

    for number in SIGNAL_INTENTS:
        loop.add_signal_handler(number, on_intent, number)
    loop.add_signal_handler(signal.SIGUSR2, on_reopen)
    quiet_signal_wakeups()

    def remove() -> None:
        for number in (*SIGNAL_INTENTS, signal.SIGUSR2):
            loop.remove_signal_handler(number)

    return remove
