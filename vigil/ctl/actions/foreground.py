"""``fg``: attach the terminal to a running process, its output shown and our input sent to
its stdin, until Ctrl-C (or Ctrl-D) or the process ends."""

from __future__ import annotations

from vigil.core.states import ProcessState
from vigil.ctl.actions.base import COMPLETE_PROCESSES, Action
from vigil.ctl.client import LogStream
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.log_stream import PRESS_CTRL_C, copy_stream, logtail_path
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller


class OutputFollower:
    """The process's stdout and stderr streams, each copied to our stdout by a thread."""

    def __init__(self, ctl: Controller, name: str) -> None:
        import threading

        self._streams = [
            LogStream(ctl.client, logtail_path(name, channel)) for channel in ("stdout", "stderr")
        ]
        self._threads = [
            threading.Thread(target=self._copy, args=(ctl, stream), daemon=True)
            for stream in self._streams
        ]
        self._stopping = False

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping = True
        for stream in self._streams:
            stream.interrupt()
        for thread in self._threads:
            thread.join(timeout=5)

    def _copy(self, ctl: Controller, stream: LogStream) -> None:
        try:
            copy_stream(ctl, stream)
        except Exception:
            if not self._stopping:
                raise


class ForegroundAction(Action):
    name = "fg"
    completes = COMPLETE_PROCESSES
    help_lines = ("fg <process>\tConnect to a process in foreground mode", "\t\tCtrl-C to exit")

    def run(self, ctl: Controller, arg: str) -> bool:
        if not ctl.upcheck():
            return False
        names = arg.split()
        if len(names) != 1:
            ctl.output(
                "ERROR: no process name supplied"
                if not names
                else "ERROR: too many process names supplied"
            )
            ctl.exit_status = InitExit.GENERIC
            if not names:
                self.show_help(ctl)
            return False
        name = names[0]
        try:
            info = ctl.supervisor("getProcessInfo", name)
        except Fault as fault:
            if fault.code == Faults.BAD_NAME:
                ctl.output("ERROR: bad process name supplied")
                ctl.exit_status = InitExit.GENERIC
            else:
                ctl.output(f"ERROR: {fault}")
            return False
        if not _is_running(info):
            ctl.output("ERROR: process not running")
            ctl.exit_status = InitExit.GENERIC
            return False
        ctl.output(PRESS_CTRL_C)
        ctl.stdout.flush()
        follower = OutputFollower(ctl, name)
        try:
            follower.start()
            self._send_input(ctl, name)
        except (KeyboardInterrupt, EOFError):
            pass
        finally:
            follower.stop()
        ctl.output("Exiting foreground")
        return False

    @staticmethod
    def _send_input(ctl: Controller, name: str) -> None:
        """Send each line typed to the process until it stops running."""
        while True:
            line = ctl.read_line("") + "\n"
            try:
                ctl.supervisor("sendProcessStdin", name, line)
            except Fault as fault:
                if fault.code == Faults.NOT_RUNNING:
                    ctl.output("Process got killed")
                else:
                    ctl.output(f"ERROR: {fault}")
                return
            if not _is_running(ctl.supervisor("getProcessInfo", name)):
                ctl.output("Process got killed")
                return


def _is_running(info: object) -> bool:
    return isinstance(info, dict) and info.get("state") == ProcessState.RUNNING
