"""The HTTP server's assembly: the RPC registry with its namespaces and every route, from the
running supervisor and the services the composition root made.

Loaded only once the programs are spawned (the composition root imports it then), with the
HTTP stack and the RPC namespaces it brings: none of that serves a spawn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from vigil.config.model import Config, LogLevel
from vigil.core.events import Channel
from vigil.core.naming import split_namespec
from vigil.core.ports import LogFollower
from vigil.http.json_api import Observations, json_api_routes
from vigil.http.listeners import Listener
from vigil.http.logtail import LogSource, logtail_routes
from vigil.http.metrics import MetricSources, metrics_routes, readiness_routes
from vigil.http.routing import RouteRegistrar
from vigil.http.rpc_handler import rpc_routes
from vigil.http.server import HttpServer
from vigil.http.web import web_routes
from vigil.runtime.supervisor import Supervisor
from vigil.services.directory import ProcessDirectory
from vigil.services.event_counts import EventCounts
from vigil.services.event_feed import EventFeed
from vigil.services.history import ProcessHistory
from vigil.services.mainlog import MainLogger
from vigil.services.outputs import ProcessOutputs
from vigil.services.programs_up import Program, not_up
from vigil.services.resources import ResourceReader
from vigil.services.rpc.registry import RpcRegistry
from vigil.services.rpc.supervisor_ns import DaemonControl, SupervisorNamespace
from vigil.services.rpc.system_ns import SystemNamespace
from vigil.services.rpc.vigil_ns import VigilNamespace


@dataclasses.dataclass(frozen=True)
class Observed:
    """What is followed on the bus from the start, for the API and /metrics to show."""

    counts: EventCounts
    history: ProcessHistory

    def observations(self, resources: ResourceReader) -> Observations:
        return Observations(
            lambda snapshots, complete: resources.read(snapshots, complete=complete),
            self.history.of,
        )

    def metrics_routes(
        self,
        directory: ProcessDirectory,
        resources: ResourceReader,
        outputs: ProcessOutputs,
        registry: RpcRegistry,
    ) -> RouteRegistrar:
        return metrics_routes(
            MetricSources(
                snapshots=directory.all,
                figures=lambda snapshots: resources.read(snapshots, complete=True),
                log_bytes=outputs.byte_counts,
                event_counts=self.counts.counts,
                rpc_outcomes=registry.outcomes,
            )
        )


@dataclasses.dataclass(frozen=True)
class ServerParts:
    """What the server is assembled from: the running daemon's parts."""

    config: Config
    daemon: DaemonControl
    supervisor: Supervisor
    outputs: ProcessOutputs
    mainlog: MainLogger
    bound: list[Listener]
    feed: EventFeed
    observed: Observed


def _programs(supervisor: Supervisor) -> Iterator[Program]:
    for runner in supervisor.runners():
        yield runner.config, runner.snapshot()


def http_server(parts: ServerParts) -> HttpServer:
    """The server, its listeners already bound, every route registered."""
    supervisor, outputs, mainlog = parts.supervisor, parts.outputs, parts.mainlog
    registry = RpcRegistry()
    registry.add_namespace("system", SystemNamespace(registry))
    namespace = SupervisorNamespace(supervisor, parts.daemon)
    registry.add_namespace("supervisor", namespace)
    mainlog.log(LogLevel.INFO, "RPC interface 'supervisor' initialized")
    resources = ResourceReader()
    registry.add_namespace(
        "vigil",
        VigilNamespace(
            supervisor, resources, parts.observed.history, mainlog.reopen, parts.daemon
        ),
    )
    directory = ProcessDirectory(supervisor)

    def find_log(namespec: str, channel: str) -> LogSource:
        group, name = split_namespec(namespec)
        runner = supervisor.find(group, name or "")
        log = outputs.log_of(group, name or "", "stdout" if channel == "stdout" else "stderr")
        if runner is None or log is None:
            raise KeyError(namespec)
        return log.path, log.follow

    def find_main_log() -> LogSource:
        return parts.daemon.main_log_path(), mainlog.follow

    def follow_log(
        group: str, name: str, channel: Channel, follower: LogFollower
    ) -> Callable[[], None] | None:
        log = outputs.log_of(group, name, channel)
        return None if log is None else log.follow(follower)

    def not_ready() -> dict[str, str]:
        directory.check_running()  # stopping: 503 with Supervisor's SHUTDOWN_STATE
        return not_up(_programs(supervisor), health=True)

    routes = [
        rpc_routes(registry, mainlog),
        logtail_routes(find_log, find_main_log),
        web_routes(registry, mainlog),
        json_api_routes(
            registry,
            directory,
            parts.feed,
            follow_log,
            parts.observed.observations(resources),
        ),
        parts.observed.metrics_routes(directory, resources, outputs, registry),
        readiness_routes(not_ready),
    ]
    config = parts.config
    return HttpServer(routes, config.unix_servers, config.inet_servers, mainlog, bound=parts.bound)
