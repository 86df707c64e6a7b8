"""``version``, ``reload``, ``shutdown`` and ``open``: the daemon itself, and which one."""

from __future__ import annotations

import errno

from vigil import DISTRIBUTION, __version__
from vigil.ctl.actions.base import Action, print_json, take_json_flag
from vigil.ctl.actions.status import StatusAction
from vigil.ctl.client import VIGIL_SERVER
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.options import split_scheme
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller


def confirmed(ctl: Controller, question: str) -> bool:
    """In the shell, ask first; on the command line the action itself is the confirmation."""
    if not ctl.settings.interactive:
        return True
    return ctl.read_line(question).lower().startswith("y")


VERBOSE_FLAGS = ("--verbose", "-v")
DAEMON_PATH = "/api/v1/daemon"  # a vigil daemon's JSON API; a Supervisor daemon has none


class VersionAction(Action):
    name = "version"
    speaks_json = True
    help_lines = ("version\t\t\tShow the version of the remote supervisord process",)
    more_help_lines = (
        "version -v|--verbose\tWhich supervisorctl and which supervisord: vigil's or",
        "\t\t\tSupervisor's, and their versions",
        'version --json\t\t{"version": what version prints, "client": {...},',
        '\t\t\t"server": {...}}, each {"implementation", "version"}',
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        verbose = any(word in VERBOSE_FLAGS for word in words)
        words = [word for word in words if word not in VERBOSE_FLAGS]
        if self.refuse_arguments(ctl, " ".join(words)) or not ctl.upcheck():
            return False
        version = str(ctl.supervisor("getSupervisorVersion"))
        if not (verbose or as_json):
            ctl.output(version)
            return False
        implementation, server_version = server_identity(ctl, version)
        if as_json:
            print_json(
                ctl,
                {
                    "version": version,
                    "client": {"implementation": "vigil", "version": __version__},
                    "server": {"implementation": implementation, "version": server_version},
                },
            )
            return False
        ctl.output(f"{DISTRIBUTION} {__version__} (supervisorctl)")
        if implementation == "vigil":
            ctl.output(
                f"{DISTRIBUTION} {server_version} (supervisord, Supervisor {version} compatible)"
            )
        else:
            ctl.output(f"Supervisor {server_version} (supervisord)")
        return False


def server_identity(ctl: Controller, supervisor_version: str) -> tuple[str, str]:
    """(``vigil`` or ``supervisor``, its version) of the daemon. A vigil daemon says so in
    its JSON API; Supervisor's has no such route (404). Should the API not answer (refused,
    broken), the Server header of vigil's answers (``vigil/<version>``) still tells."""
    response = ctl.client.get(DAEMON_PATH)
    if response.status == 200:
        import json

        try:
            document = json.loads(response.body)
            return str(document["implementation"]), str(document["version"])
        except (ValueError, TypeError, KeyError):
            pass
    server = ctl.client.server
    if server.startswith(VIGIL_SERVER):
        return "vigil", server[len(VIGIL_SERVER) :].split(" ", 1)[0]
    return "supervisor", supervisor_version


class ReloadAction(Action):
    name = "reload"
    help_lines = ("reload \t\tRestart the remote supervisord.",)

    def run(self, ctl: Controller, arg: str) -> bool:
        if self.refuse_arguments(ctl, arg):
            return False
        if not confirmed(ctl, "Really restart the remote supervisord process y/N? "):
            return False
        if not self._config_is_good(ctl):
            return False
        try:
            ctl.supervisor("restart")
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            if fault.code != Faults.SHUTDOWN_STATE:
                raise
            ctl.output("ERROR: already shutting down")
        else:
            ctl.output("Restarted supervisord")
        return False

    @staticmethod
    def _config_is_good(ctl: Controller) -> bool:
        """Have the daemon read its configuration before restarting: a restart with a broken
        file would stop every program and come back with nothing (Supervisor) or the old
        configuration (vigil). Only CANT_REREAD stops the reload, printed as ``reread``
        prints it; any other answer leaves the decision to ``restart``, so output against a
        daemon with a good file is exactly Supervisor's."""
        try:
            ctl.supervisor("reloadConfig")
        except Fault as fault:
            if fault.code != Faults.CANT_REREAD:
                return True
            ctl.exit_status = InitExit.GENERIC
            ctl.output(f"ERROR: {fault.text}")
            return False
        return True


class ShutdownAction(Action):
    name = "shutdown"
    help_lines = ("shutdown \tShut the remote supervisord down.",)

    def run(self, ctl: Controller, arg: str) -> bool:
        if self.refuse_arguments(ctl, arg):
            return False
        if not confirmed(ctl, "Really shut the remote supervisord process down y/N? "):
            return False
        try:
            ctl.supervisor("shutdown")
        except Fault as fault:
            if fault.code != Faults.SHUTDOWN_STATE:
                ctl.exit_status = InitExit.GENERIC
                raise
            # Asked twice: the daemon is going away as wanted, so not a failure.
            ctl.output("ERROR: already shutting down")
        except OSError as error:
            ctl.exit_status = InitExit.GENERIC
            url = ctl.settings.serverurl
            if error.args and error.args[0] == errno.ECONNREFUSED:
                ctl.output(f"ERROR: {url} refused connection (already shut down?)")
            elif error.args and error.args[0] == errno.ENOENT:
                ctl.output(f"ERROR: {url} no such file (already shut down?)")
            else:
                raise
        else:
            ctl.output("Shut down")
        return False


class OpenAction(Action):
    name = "open"
    help_lines = (
        "open <url>\tConnect to a remote supervisord process.",
        "\t\t(for UNIX domain socket, use unix:///socket/path)",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        url = arg.strip()
        if split_scheme(url)[0] not in ("unix", "http"):
            ctl.output("ERROR: url must be http:// or unix://")
            ctl.exit_status = InitExit.GENERIC
            return False
        ctl.settings.serverurl = url
        # Show the new server's processes; how they are doing is not this action's result.
        exit_status = ctl.exit_status
        StatusAction().run(ctl, "")
        ctl.exit_status = exit_status
        return False
