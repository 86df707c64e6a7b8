"""pidproxy -- run command and proxy signals to it via its pidfile.

This executable runs a command and then monitors a pidfile.  When this
executable receives a signal, it sends the same signal to the pid
in the pidfile.

Usage: %s <pidfile name> <command> [<cmdarg1> ...]
"""

# For programs that fork a daemon and write its pid to a file (mysqld_safe): supervisord
# signals pidproxy, pidproxy signals the pid in the file. It waits on its child directly (a
# blocking waitpid that signal handlers interrupt), so it exits as soon as the child does.

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

RELAYED = (
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGQUIT,
)
# After relaying one of these, pidproxy's own work is done (as Supervisor's pidproxy does).
FINAL = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


class PidProxy:
    def __init__(self, pidfile: str, command: Sequence[str]) -> None:
        self.pidfile = pidfile
        self.abscmd = os.path.abspath(command[0])
        self.cmdargs = list(command)
        self.pid = 0

    def run(self) -> int:
        for number in RELAYED:
            signal.signal(number, self.relay)
        try:
            # posix_spawn resets the relayed signals before exec: a fork would leave our
            # handlers in the child until exec, and a signal in between would be swallowed
            self.pid = os.posix_spawn(self.abscmd, self.cmdargs, os.environ, setsigdef=RELAYED)
        except OSError as exc:
            print(f"pidproxy: cannot run {self.abscmd}: {exc.strerror}", file=sys.stderr)
            return 127
        # interrupted by a relayed signal, waitpid resumes by itself (PEP 475)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        return 0

    def relay(self, number: int, frame: FrameType | None) -> None:
        try:
            with open(self.pidfile) as file:
                pid = int(file.read().strip())
        except (OSError, ValueError, UnicodeDecodeError):
            print(f"Can't read child pidfile {self.pidfile}!", flush=True)
            return
        try:
            os.kill(pid, number)
        except OSError as exc:
            name = signal.Signals(number).name
            print(
                f"Can't send {name} to pid {pid} from pidfile {self.pidfile}: {exc.strerror}",
                flush=True,
            )
            return
        if number in FINAL:
            sys.exit(0)


def usage(argv0: str) -> str:
    assert __doc__ is not None
    return __doc__ % argv0


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if args[1:] == ["--version"]:
        from vigil import version_text

        print(version_text())
        sys.exit(0)
    if len(args) < 3:
        print(usage(args[0] if args else "pidproxy"))
        sys.exit(1)
    command = args[2:]
    program = os.path.abspath(command[0])
    if not (os.path.isfile(program) and os.access(program, os.X_OK)):
        print(f"pidproxy: cannot run {program}: not an executable file", file=sys.stderr)
        sys.exit(127)
    sys.exit(PidProxy(args[1], command).run())


if __name__ == "__main__":
    main()
