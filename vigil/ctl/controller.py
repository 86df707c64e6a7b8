"""Runs one command line of supervisorctl: finds the action, keeps the exit status, and turns
what goes wrong into the messages Supervisor's supervisorctl prints."""

from __future__ import annotations

import errno

from vigil import API_VERSION
from vigil.ctl.actions.base import JSON_FLAG
from vigil.ctl.client import SupervisorClient
from vigil.ctl.errors import Fault, ProtocolError, displayed_class
from vigil.ctl.exit_codes import InitExit, status_for_fault
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TextIO

    from vigil.ctl.actions.base import Action
    from vigil.ctl.settings import ClientSettings

_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")

NO_RPC_INTERFACE = (
    "Sorry, supervisord responded but did not recognize the supervisor namespace commands "
    "that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] "
    "section is enabled in the configuration file (see sample.conf)."
)


def parse_line(line: str) -> tuple[str | None, str, str]:
    """(action word, argument text, whole line) the way Python's ``cmd`` module splits a
    line, as Supervisor's shell does: ``?x`` means ``help x``; the action word is the leading
    run of letters, digits and underscores."""
    line = line.strip()
    if not line:
        return None, "", line
    if line[0] == "?":
        line = "help " + line[1:]
    elif line[0] == "!":
        return None, "", line
    end = 0
    while end < len(line) and line[end] in _IDENT_CHARS:
        end += 1
    return line[:end], line[end:].strip(), line


class Controller:
    """The state one supervisorctl run carries from action to action."""

    def __init__(
        self,
        settings: ClientSettings,
        actions: Mapping[str, Action],
        *,
        stdout: TextIO,
        stderr: TextIO,
        read_line: Callable[[str], str],
        read_secret: Callable[[str], str],
    ) -> None:
        self.settings = settings
        self.actions = actions
        self.stdout = stdout
        self.stderr = stderr
        self.read_line = read_line
        self.read_secret = read_secret
        self.exit_status = 0
        # True while an action runs with --json: stdout then holds only its JSON document,
        # and every other line (complaints, help after a mistake, errors) goes to stderr.
        self.json_output = False
        self._client: SupervisorClient | None = None

    # -- talking to the server ------------------------------------------------------------

    @property
    def client(self) -> SupervisorClient:
        """A client for the current server URL and credentials (both may change mid-session)."""
        wanted = (self.settings.serverurl, self.settings.username, self.settings.password)
        client = self._client
        if client is None or (client.serverurl, client.username, client.password) != wanted:
            if client is not None:
                client.close()
            client = self._client = SupervisorClient(*wanted, cafile=self.settings.cafile)
        return client

    def supervisor(self, method: str, *params: object) -> object:
        """Call ``supervisor.<method>``."""
        return self.client.call("supervisor." + method, *params)

    def all_process_info(self) -> object:
        """``supervisor.getAllProcessInfo``, by the quickest way the server offers."""
        return self.client.all_process_info()

    def disconnect(self) -> None:
        if self._client is not None:
            self._client.close()

    def upcheck(self) -> bool:
        """Whether the server answers and speaks our API version; if not, say why and set the
        exit status (refused: 4, socket missing: 7, no supervisor namespace: 3, other API
        version: 5)."""
        try:
            api = self.supervisor("getVersion")
        except Fault as fault:
            if fault.code == Faults.UNKNOWN_METHOD:
                self.output(NO_RPC_INTERFACE)
                self.exit_status = InitExit.UNIMPLEMENTED_FEATURE
                return False
            self.exit_status = InitExit.GENERIC
            raise
        except OSError as error:
            if error.args and error.args[0] == errno.ECONNREFUSED:
                self.output(f"{self.settings.serverurl} refused connection")
                self.exit_status = InitExit.INSUFFICIENT_PRIVILEGES
                return False
            if error.args and error.args[0] == errno.ENOENT:
                self.output(f"{self.settings.serverurl} no such file")
                self.exit_status = InitExit.NOT_RUNNING
                return False
            self.exit_status = InitExit.GENERIC
            raise
        if api != API_VERSION:
            self.output(
                f"Sorry, this version of supervisorctl expects to talk to a server with API "
                f"version {API_VERSION}, but the remote version is {api}."
            )
            self.exit_status = InitExit.NOT_INSTALLED
            return False
        return True

    # -- results ----------------------------------------------------------------------------

    def output(self, text: str) -> None:
        (self.stderr if self.json_output else self.stdout).write(text + "\n")

    def write_bytes(self, data: bytes) -> None:
        """Log data exactly as the server sent it, shown at once."""
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            self.stdout.write(data.decode("utf-8", "replace"))
        else:
            self.stdout.flush()
            buffer.write(data)
            buffer.flush()
        self.stdout.flush()

    def record_fault(self, code: int, ignored: int | None = None) -> None:
        status = status_for_fault(code, ignored)
        if status is not None:
            self.exit_status = status

    # -- running a line ---------------------------------------------------------------------

    def execute(self, line: str) -> bool:
        """Run one command line; True when it asks to leave the shell."""
        word, arg, line = parse_line(line)
        if not line:
            return False
        action = self.actions.get(word) if word else None
        if action is None:
            self.output(f"*** Unknown syntax: {line}")
            self.exit_status = InitExit.GENERIC
            return False
        self.json_output = action.speaks_json and JSON_FLAG in arg.split()
        try:
            return self._run_action(action, arg, line)
        finally:
            self.json_output = False

    def _run_action(self, action: Action, arg: str, line: str) -> bool:
        try:
            try:
                return action.run(self, arg)
            except ProtocolError as error:
                if error.status != 401:
                    self.exit_status = InitExit.GENERIC
                    raise
                self.output("Server requires authentication")
                if self.settings.interactive:
                    self._ask_credentials()
                    return self.execute(line)
                self.exit_status = InitExit.GENERIC
            # Supervisor's supervisorctl runs the action once more after a refused login,
            # which prints the protocol error too; scripts have always seen both lines.
            return action.run(self, arg)
        except Exception as error:
            self.output(error_line(error))
            self.exit_status = InitExit.GENERIC
            return False

    def _ask_credentials(self) -> None:
        username = self.read_line("Username:")
        password = self.read_secret("Password:")
        self.output("")
        self.settings.username = username
        self.settings.password = password


def error_line(error: BaseException) -> str:
    """``error: <class>, <message>: file: <file> line: <n>`` naming where it was raised."""
    where = error.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    filename = where.tb_frame.f_code.co_filename if where is not None else "?"
    lineno = where.tb_lineno if where is not None else 0
    return f"error: {displayed_class(error)}, {error}: file: {filename} line: {lineno}"
