"""The ``supervisorctl`` program: run one action from the command line, or the shell."""

from __future__ import annotations

import os
import sys

from vigil.ctl.actions import builtin_actions
from vigil.ctl.controller import Controller
from vigil.ctl.options import (
    HELP_TEXT,
    HelpRequested,
    UsageError,
    VersionRequested,
    parse_command_line,
)
from vigil.ctl.settings import ClientSettings, resolve_settings

COMPLETION = "completion"

# The exit status of a run cut short by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def _read_secret(prompt: str) -> str:
    import getpass

    return getpass.getpass(prompt)


def main(argv: list[str] | None = None) -> None:
    """Run supervisorctl with ``argv`` (default: the process's arguments); exits with the
    action's status, 0 after the shell, 2 for a bad command line or configuration file."""
    program = sys.argv[0]
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        command_line = parse_command_line(args)
        if command_line.args[:1] == [COMPLETION]:
            # Needs neither server nor configuration file: a package can make the scripts
            # where the file is missing or has no [supervisorctl] section.
            settings, warnings = ClientSettings.defaults(), list[str]()
        else:
            settings, warnings = resolve_settings(command_line, program)
    except HelpRequested:
        sys.stdout.write(HELP_TEXT.replace("%s", program) + "\n")
        sys.exit(0)
    except VersionRequested:
        from vigil import version_text

        sys.stdout.write(version_text() + "\n")
        sys.exit(0)
    except UsageError as error:
        sys.stderr.write(f"Error: {error}\nFor help, use {program} -h\n")
        sys.exit(2)
    for warning in warnings:
        sys.stderr.write(warning + "\n")
    ctl = Controller(
        settings,
        builtin_actions(),
        stdout=sys.stdout,
        stderr=sys.stderr,
        read_line=input,
        read_secret=_read_secret,
    )
    sys.exit(_run(ctl, command_line.args))


def _run(ctl: Controller, args: list[str]) -> int:
    try:
        if args:
            ctl.execute(" ".join(args))
            status = ctl.exit_status
        else:
            from vigil.ctl.shell import run_shell

            run_shell(ctl)
            status = 0  # the shell's status is always 0, whatever its actions did
        sys.stdout.flush()
    except KeyboardInterrupt:
        ctl.output("")
        return INTERRUPTED
    except BrokenPipeError:
        # Whoever read our output has gone (``supervisorctl status | head -1``): be quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        ctl.disconnect()
    return status


if __name__ == "__main__":
    main()
