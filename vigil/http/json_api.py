"""The JSON API at ``/api/v1``: the daemon, its processes, their logs, the configuration.

Reads come from the read model (snapshots through the ProcessDirectory); everything that acts
is one call of the same RPC registry methods XML-RPC calls, so behaviour and faults are the
same on both wires. A fault is answered with its HTTP status from one table (problems.py) and
an ``application/problem+json`` body naming it. The OpenAPI document (openapi.py) describes
every route here.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from vigil import DISTRIBUTION, __version__
from vigil.config.probes import Probe
from vigil.config.values import ProbeKind
from vigil.core.events import Channel
from vigil.core.naming import make_namespec
from vigil.core.snapshot import ProcessSnapshot
from vigil.faults import Faults, RPCError
from vigil.http.cross_site import cross_site_reason
from vigil.http.event_stream import stream_events
from vigil.http.log_stream import Follow, stream_logs
from vigil.http.messages import PLAIN_TEXT, Access, Reply, Request, Response
from vigil.http.openapi import openapi_document
from vigil.http.problems import fault_problem, json_response, problem
from vigil.http.routing import RouteRegistrar, Routes
from vigil.http.web_actions import RpcCaller
from vigil.services.directory import ALL, ProcessDirectory
from vigil.services.event_feed import EventFeed
from vigil.services.history import Change
from vigil.services.resources import NO_CHILD, Figures

PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024  # a stdin write or a small JSON document
DEFAULT_LOG_BYTES = 64 * 1024
ACTIONS = ("start", "stop", "restart", "signal", "stdin", "clear", "reopen")
Key = tuple[str, str]


@dataclass(frozen=True)
class Observations:
    """What the API shows beyond the read model: resource figures, read when asked
    (``complete`` when the snapshots are every process), and each process's recent history."""

    figures: Callable[[list[ProcessSnapshot], bool], Mapping[Key, Figures]]
    history: Callable[[str, str], list[Change]]


def process_document(
    snapshot: ProcessSnapshot, figures: Figures | None = None, ready: Probe | None = None
) -> dict[str, Any]:
    """A process as JSON; ``resources`` only when figures were read for it. ``ready`` is the
    program's readiness probe (None: up for startsecs), which the snapshot does not carry."""
    document = _snapshot_document(snapshot, ready)
    if figures is not None:
        document["resources"] = figures.document()
    return document


def _snapshot_document(snapshot: ProcessSnapshot, ready: Probe | None) -> dict[str, Any]:
    last = snapshot.last_exit
    return {
        "name": snapshot.name,
        "group": snapshot.group,
        "namespec": make_namespec(snapshot.group, snapshot.name),
        "state": snapshot.state.name,
        "statecode": int(snapshot.state),
        "pid": snapshot.pid or None,
        "description": snapshot.description,
        "started_at": snapshot.started_at or None,
        "stopped_at": snapshot.stopped_at or None,
        "taken_at": snapshot.taken_at,
        "exit_status": snapshot.exit_status,
        "spawn_error": snapshot.spawn_error,
        "restarts": snapshot.restarts,
        "next_attempt_at": snapshot.next_attempt_at,
        "last_exit": None
        if last is None
        else {"code": last.code, "signal": last.signal, "expected": last.expected},
        "logs": {
            "stdout": snapshot.stdout_logfile,
            "stderr": snapshot.stderr_logfile,
        },
        "waiting_for": snapshot.waiting_for,
        "ready": None if ready is None else ready.text,
        "health": None
        if snapshot.health is None
        else {"status": snapshot.health, "output": snapshot.health_output},
        # what a notify program said on its socket; null for the others, which have none
        "notify": {"status": snapshot.notify_status, "reloading": snapshot.reloading}
        if ready is not None and ready.kind is ProbeKind.NOTIFY
        else None,
    }


Route = Callable[[Request], Awaitable[Reply]]


class JsonApi:
    def __init__(
        self,
        rpc: RpcCaller,
        directory: ProcessDirectory,
        feed: EventFeed,
        follow: Follow,
        observations: Observations,
    ) -> None:
        self._rpc = rpc
        self._directory = directory
        self._feed = feed
        self._follow = follow
        self._observations = observations
        # this life of the daemon: the API is made once its programs are spawned, as the
        # dashboard (whose page says the same time) is
        self._started_at = time.time()
        self._hostname = socket.gethostname()

    def register(self, routes: Routes) -> None:
        for path, handler, methods in (
            ("/daemon", self.daemon, ("GET",)),
            ("/processes", self.processes, ("GET",)),
            ("/processes/{namespec}", self.process, ("GET",)),
            ("/processes/{namespec}/history", self.history, ("GET",)),
            # one route per action rather than a placeholder, which would also match
            # .../history (and have a POST there advertised in its 405's Allow)
            *(
                (f"/processes/{{namespec}}/{action}", self._action(action), ("POST",))
                for action in ACTIONS
            ),
            ("/resources", self.resources, ("GET",)),
            ("/processes/{namespec}/log/{channel}", self.process_log, ("GET",)),
            ("/processes/{namespec}/log/{channel}/stream", self.log_stream, ("GET",)),
            ("/groups", self.groups, ("GET",)),
            ("/groups/{name}/scale", self.scale, ("POST",)),
            ("/log", self.main_log, ("GET",)),
            ("/config/diff", self.config_diff, ("GET",)),
            ("/config/apply", self.config_apply, ("POST",)),
            ("/events", self.events, ("GET",)),
            ("/openapi.json", self.openapi, ("GET",)),
        ):
            answered = _faults_answered(handler)
            if "POST" in methods:
                answered = _same_site(answered)
            routes.add(PREFIX + path, answered, methods)
        routes.fallback(PREFIX + "/", self.unknown)

    async def daemon(self, request: Request) -> Reply:
        state = await self._rpc.call("supervisor.getState", [])
        return json_response(
            {
                "implementation": "vigil",
                "distribution": DISTRIBUTION,
                "version": __version__,
                "supervisor_version": await self._rpc.call("supervisor.getSupervisorVersion", []),
                "api_version": await self._rpc.call("supervisor.getAPIVersion", []),
                "identification": await self._rpc.call("supervisor.getIdentification", []),
                "pid": await self._rpc.call("supervisor.getPID", []),
                "state": state["statename"],
                "statecode": state["statecode"],
                "hostname": self._hostname,
                "started_at": self._started_at,
                "access": "read-only" if request.access is Access.READ_ONLY else "full",
            }
        )

    async def processes(self, request: Request) -> Reply:
        wanted = _with_resources(request)
        if isinstance(wanted, Response):
            return wanted
        snapshots = self._directory.all()
        return json_response(self._documents(wanted, snapshots, complete=True))

    async def process(self, request: Request) -> Reply:
        wanted = _with_resources(request)
        if isinstance(wanted, Response):
            return wanted
        snapshot = self._directory.one(request.match["namespec"])
        return json_response(self._documents(wanted, [snapshot])[0])

    async def groups(self, request: Request) -> Reply:
        wanted = _with_resources(request)
        if isinstance(wanted, Response):
            return wanted
        groups = self._directory.groups()
        every = [snapshot for members in groups.values() for snapshot in members]
        documents = iter(self._documents(wanted, every, complete=True))
        return json_response(
            [
                {"name": name, "processes": [next(documents) for _ in members]}
                for name, members in groups.items()
            ]
        )

    def _documents(
        self, with_resources: bool, snapshots: list[ProcessSnapshot], *, complete: bool = False
    ) -> list[dict[str, Any]]:
        """The processes' documents, with their figures if wanted."""
        ready = self._directory.ready_probe
        if not with_resources:
            return [process_document(snapshot, None, ready(snapshot)) for snapshot in snapshots]
        figures = self._observations.figures(snapshots, complete)
        return [
            process_document(
                snapshot, figures.get((snapshot.group, snapshot.name), NO_CHILD), ready(snapshot)
            )
            for snapshot in snapshots
        ]

    async def resources(self, request: Request) -> Reply:
        """Every process's figures alone: what a dashboard polls every second or two."""
        snapshots = self._directory.all()
        taken_at = time.time()
        figures = self._observations.figures(snapshots, True)
        return json_response(
            {
                "taken_at": taken_at,
                "processes": {
                    make_namespec(s.group, s.name): figures.get(
                        (s.group, s.name), NO_CHILD
                    ).document()
                    for s in snapshots
                },
            }
        )

    async def history(self, request: Request) -> Reply:
        """The process's last state changes, oldest first, with their causes."""
        snapshot = self._directory.one(request.match["namespec"])
        changes = self._observations.history(snapshot.group, snapshot.name)
        return json_response(
            {
                "namespec": make_namespec(snapshot.group, snapshot.name),
                "changes": [change.document() for change in changes],
            }
        )

    def _action(self, action: str) -> Route:
        async def act(request: Request) -> Reply:
            return await self.act(request, action)

        return act

    async def unknown(self, request: Request) -> Reply:
        parts = request.path.removeprefix(PREFIX + "/").split("/")
        if request.method == "POST" and len(parts) == 3 and parts[0] == "processes":
            return problem(404, f"no action {parts[2]!r}: it is one of {', '.join(ACTIONS)}")
        return problem(404, f"no API route {request.method} {request.path}")

    async def act(self, request: Request, action: str) -> Reply:
        options = await _options(request)
        if isinstance(options, Response):
            return options
        namespec = request.match["namespec"]
        self._directory.matching(namespec)  # BAD_NAME before anything is done
        if action == "stdin":
            return await self._stdin(namespec, options)
        if action == "signal":
            return await self._signal(namespec, options)
        if action == "clear":
            return json_response(await self._clear(namespec))
        if action == "reopen":
            return json_response(await self._reopen(namespec))
        wait = bool(options.get("wait", True))
        if action == "restart" and options.get("rolling", False):
            return json_response(await self._roll(namespec, options))
        if action == "restart":
            stopped = await self._stop_if_running(namespec)
            started = await self._per_kind(namespec, "start", [wait])
            return json_response({**started, "stopped": stopped})
        return json_response(await self._per_kind(namespec, action, [wait]))

    async def _roll(self, namespec: str, options: dict[str, Any]) -> dict[str, Any]:
        """A rolling restart: vigil.restartRolling's result, with null for none."""
        params = [namespec, options.get("batch", 1), options.get("pause", 0)]
        rolled = await self._rpc.call("vigil.restartRolling", params)
        return {
            "namespec": namespec,
            "done": rolled["done"],
            "restarted": rolled["restarted"],
            "failed": rolled["failed"] or None,
            "reason": rolled["reason"] or None,
            "untouched": rolled["untouched"],
            "results": [_step(step) for step in rolled["steps"]],
        }

    async def scale(self, request: Request) -> Reply:
        """A numprocs program given another number of instances (vigil.scaleProcessGroup)."""
        options = await _options(request)
        if isinstance(options, Response):
            return options
        numprocs = options.get("numprocs")
        if numprocs is None:
            return problem(400, "numprocs is required: how many instances to run")
        scaled = await self._rpc.call("vigil.scaleProcessGroup", [request.match["name"], numprocs])
        return json_response(
            {
                "group": scaled["name"],
                "numprocs": scaled["numprocs"],
                "done": scaled["done"],
                "failed": scaled["failed"] or None,
                "added": scaled["added"],
                "removed": scaled["removed"],
                "results": [_step(step) for step in scaled["steps"]],
            }
        )

    async def _stop_if_running(self, namespec: str) -> dict[str, Any]:
        try:
            return await self._per_kind(namespec, "stop", [True])
        except RPCError as fault:
            if fault.code is Faults.NOT_RUNNING:
                return {"namespec": namespec, "done": False}
            raise

    async def _signal(self, namespec: str, options: dict[str, Any]) -> Reply:
        number = options.get("signal")
        if number is None:
            return problem(400, "signal is required: a name (HUP, SIGHUP) or a number")
        return json_response(await self._per_kind(namespec, "signal", [number]))

    async def _clear(self, namespec: str) -> dict[str, Any]:
        """Empty the logs of one process, a group or all (XML-RPC has no group form)."""
        if namespec == ALL:
            results = await self._rpc.call("supervisor.clearAllProcessLogs", [])
            return {"namespec": namespec, "results": [_result(r) for r in results]}
        members = self._directory.matching(namespec)
        if ":" in namespec and namespec.partition(":")[2] in ("", "*"):
            results = [await self._clear_one(member) for member in members]
            return {"namespec": namespec, "results": results}
        await self._rpc.call("supervisor.clearProcessLogs", [namespec])
        return {"namespec": namespec, "done": True}

    async def _reopen(self, namespec: str) -> dict[str, Any]:
        """Reopen log files by their paths, after an external rotation."""
        results = await self._rpc.call("vigil.reopenLogs", [namespec])
        several = namespec == ALL or (":" in namespec and namespec.partition(":")[2] in ("", "*"))
        if several:
            return {"namespec": namespec, "results": [_result(r) for r in results]}
        return {"namespec": namespec, "done": True}

    async def _stdin(self, namespec: str, options: dict[str, Any]) -> Reply:
        data = options.get("data")
        if data is None:
            return problem(400, "data is required: the text to write to the process's stdin")
        await self._rpc.call("supervisor.sendProcessStdin", [namespec, data])
        return json_response({"namespec": namespec, "done": True})

    async def _clear_one(self, member: ProcessSnapshot) -> dict[str, Any]:
        """One member of a group, as the *Group results say it: a fault stops nothing."""
        namespec = make_namespec(member.group, member.name)
        try:
            await self._rpc.call("supervisor.clearProcessLogs", [namespec])
        except RPCError as fault:
            return {"namespec": namespec, "status": fault.code.name, "done": False,
                    "description": fault.text}  # fmt: skip
        return {"namespec": namespec, "status": "SUCCESS", "done": True, "description": "OK"}

    async def _per_kind(self, namespec: str, verb: str, params: list[object]) -> dict[str, Any]:
        """One process, a group or all: the method XML-RPC has for each."""
        group, _, rest = namespec.partition(":")
        if namespec == ALL:
            results = await self._rpc.call(f"supervisor.{verb}AllProcesses", params)
        elif rest in ("", "*") and ":" in namespec:
            results = await self._rpc.call(f"supervisor.{verb}ProcessGroup", [group, *params])
        else:
            await self._rpc.call(f"supervisor.{verb}Process", [namespec, *params])
            return {"namespec": namespec, "done": True}
        return {"namespec": namespec, "results": [_result(r) for r in results]}

    async def process_log(self, request: Request) -> Reply:
        channel = request.match["channel"]
        if channel not in ("stdout", "stderr"):
            return problem(404, f"no channel {channel!r}: it is stdout or stderr")
        span = _span(request)
        if isinstance(span, Response):
            return span
        method = "readProcessStdoutLog" if channel == "stdout" else "readProcessStderrLog"
        text = await self._rpc.call(f"supervisor.{method}", [request.match["namespec"], *span])
        return Response(200, text.encode("utf-8"), {"Content-Type": PLAIN_TEXT})

    async def log_stream(self, request: Request) -> Reply:
        channel = request.match["channel"]
        if channel not in ("stdout", "stderr"):
            return problem(404, f"no channel {channel!r}: it is stdout or stderr")
        snapshots = self._directory.matching(request.match["namespec"])
        stdout_or_stderr: Channel = "stdout" if channel == "stdout" else "stderr"
        return await stream_logs(request, snapshots, stdout_or_stderr, self._follow)

    async def main_log(self, request: Request) -> Reply:
        span = _span(request)
        if isinstance(span, Response):
            return span
        text = await self._rpc.call("supervisor.readLog", list(span))
        return Response(200, text.encode("utf-8"), {"Content-Type": PLAIN_TEXT})

    async def config_diff(self, request: Request) -> Reply:
        """What ``update`` would do: the file is read, not kept (a look, safe for a GET and
        for a read-only account); for each changed group, which of its processes would take
        their changes in place and which would restart (vigil.getConfigChanges)."""
        changes = await self._rpc.call("vigil.getConfigChanges", [True])
        return json_response({**changes, "groups": [_group_changes(g) for g in changes["groups"]]})

    async def config_apply(self, request: Request) -> Reply:
        """What ``supervisorctl update`` does, in one call: reread, then stop and remove what
        went away or changed, and add what is new or changed."""
        changes = await self._changes()
        done: dict[str, list[dict[str, Any]]] = {"added": [], "changed": [], "removed": []}
        for group in changes["removed"]:
            await self._rpc.call("supervisor.stopProcessGroup", [group, True])
            await self._rpc.call("supervisor.removeProcessGroup", [group])
            done["removed"].append({"group": group})
        for group in changes["changed"]:
            # as its configuration asks: Supervisor's stop, remove and add, or process by
            # process (rolling, in place, reconciled after a scale)
            updated = await self._rpc.call("vigil.updateProcessGroup", [group])
            done["changed"].append(
                {
                    "group": group,
                    "how": updated["how"],
                    "done": updated["done"],
                    "failed": updated["failed"] or None,
                    "reason": updated["reason"] or None,
                    "results": [_step(step) for step in updated["steps"]],
                }
            )
        for group in changes["added"]:
            await self._rpc.call("supervisor.addProcessGroup", [group])
            done["added"].append({"group": group})
        return json_response(done)

    async def _changes(self) -> dict[str, list[str]]:
        [[added, changed, removed]] = await self._rpc.call("supervisor.reloadConfig", [])
        return {"added": list(added), "changed": list(changed), "removed": list(removed)}

    async def events(self, request: Request) -> Reply:
        self._directory.check_running()
        return await stream_events(request, self._feed, self._directory)

    async def openapi(self, request: Request) -> Reply:
        return json_response(openapi_document())


def _group_changes(group: dict[str, Any]) -> dict[str, Any]:
    """A changed group's document: its processes by namespec."""
    name = group["name"]

    def namespec(process: str) -> str:
        return make_namespec(name, process)

    return {
        "group": name,
        "how": group["how"],
        "in_place": [namespec(p) for p in group["in_place"]],
        "restarted": [namespec(p) for p in group["restarted"]],
        "added": [namespec(p) for p in group["added"]],
        "removed": [namespec(p) for p in group["removed"]],
        "group_options": group["group_options"],
        "options": {namespec(p): split for p, split in group["options"].items()},
    }


def _faults_answered(handler: Route) -> Route:
    async def answered(request: Request) -> Reply:
        try:
            return await handler(request)
        except RPCError as fault:
            return fault_problem(fault)

    return answered


def _same_site(handler: Route) -> Route:
    """Refuse what a page of another site would make a browser do (see cross_site.py)."""

    async def checked(request: Request) -> Reply:
        reason = cross_site_reason(request)
        if reason is not None:
            return problem(403, reason)
        return await handler(request)

    return checked


def _step(step: dict[str, Any]) -> dict[str, Any]:
    """One stop, start or removal a roll, an update or a scale made."""
    return {**_result(step), "action": step["action"]}


def _result(result: dict[str, Any]) -> dict[str, Any]:
    """A *Group/*All result struct, with its status named."""
    status = Faults(result["status"])
    return {
        "namespec": make_namespec(result["group"], result["name"]),
        "status": status.name,
        "done": status is Faults.SUCCESS,
        "description": result["description"],
    }


async def _options(request: Request) -> dict[str, Any] | Response:
    """The query's parameters, then a JSON object body's members over them."""
    options: dict[str, Any] = {}
    for key, values in parse_qs(request.query_string, keep_blank_values=True).items():
        options[key] = _query_value(values[0], numeric=key in _NUMERIC)
    body = await request.read(MAX_BODY)
    if body.strip():
        try:
            document = json.loads(body)
        except ValueError as exc:
            return problem(400, f"the body is not JSON: {exc}")
        if not isinstance(document, dict):
            return problem(400, "the body must be a JSON object")
        options.update(document)
    for key, types, what in _OPTION_TYPES:
        if key not in options:
            continue
        value = options[key]
        if not isinstance(value, types) or _is_bool_as_int(value, types):
            return problem(400, f"{key} must be {what}")
    return options


# The members an action's body may hold, whatever the action: a wrong type is refused even
# where the member would not be used, so a typo never passes silently.
_OPTION_TYPES: tuple[tuple[str, type | tuple[type, ...], str], ...] = (
    ("wait", bool, "true or false"),
    ("signal", (str, int), "a signal name or number"),
    ("data", str, "a string"),
    ("rolling", bool, "true or false"),
    ("batch", int, "an integer"),
    ("pause", (int, float), "a number of seconds"),
    ("numprocs", int, "an integer"),
)


def _is_bool_as_int(value: object, types: type | tuple[type, ...]) -> bool:
    return isinstance(value, bool) and types is not bool


_NUMERIC = frozenset({"batch", "pause", "numprocs"})


def _query_value(text: str, *, numeric: bool = False) -> object:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if numeric:  # ?batch=2, ?pause=0.5: numbers as the body gives them
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                continue
    return text


def _with_resources(request: Request) -> bool | Response:
    """Whether the documents carry their resource figures: ``resources=false`` spares
    reading them (a client that shows no figures), anything but true or false is refused."""
    values = parse_qs(request.query_string, keep_blank_values=True).get("resources", ["true"])
    if values[0] not in ("true", "false"):
        return problem(400, f"resources must be true or false, not {values[0]!r}")
    return values[0] == "true"


def _span(request: Request) -> tuple[int, int] | Response:
    query = parse_qs(request.query_string, keep_blank_values=True)
    try:
        offset = int(query.get("offset", [str(-DEFAULT_LOG_BYTES)])[0])
        length = int(query.get("length", ["0"])[0])
    except ValueError:
        return problem(400, "offset and length must be integers")
    return offset, length


def json_api_routes(
    rpc: RpcCaller,
    directory: ProcessDirectory,
    feed: EventFeed,
    follow: Follow,
    observations: Observations,
) -> RouteRegistrar:
    """The JSON API's routes."""
    return JsonApi(rpc, directory, feed, follow, observations).register
