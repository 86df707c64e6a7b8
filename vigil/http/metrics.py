"""``/metrics``: the daemon and its processes in the Prometheus text format; ``/ready``: whether
they are all up, for an orchestrator's readiness probe.

Everything is read when a scrape asks (the read model, /proc, the counters the services keep);
nothing runs between scrapes, so an idle daemon stays idle. prometheus-client is loaded at the
first scrape, with a registry of vigil's own (never the library's global one): vigil's
collector, and prometheus-client's ProcessCollector for the daemon's own ``process_*``.
``?compat=node_exporter`` adds node_exporter's ``node_supervisord_*`` series beside vigil's for
dashboards built on them (only on request: they double the series of a large fleet).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from vigil import SUPERVISOR_COMPAT_VERSION, __version__
from vigil.core.events import Channel
from vigil.core.snapshot import ProcessSnapshot
from vigil.core.states import ProcessState
from vigil.faults import RPCError
from vigil.http.messages import Reply, Request, Response, plain_error
from vigil.http.metrics_text import CONTENT_TYPE, LabelTexts
from vigil.http.routing import RouteRegistrar, Routes
from vigil.services.resources import Figures

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import CollectorRegistry

PATH = "/metrics"
READY_PATH = "/ready"
COMPAT = "node_exporter"
Key = tuple[str, str]
_LIVE = frozenset({ProcessState.STARTING, ProcessState.RUNNING, ProcessState.STOPPING})
_CHANNELS: tuple[Channel, Channel] = ("stdout", "stderr")
_SAMPLE_SUFFIX = {"counter": "_total", "info": "_info"}


@dataclass(frozen=True)
class MetricSources:
    """Where a scrape reads from; each is asked once per scrape."""

    snapshots: Callable[[], list[ProcessSnapshot]]  # every process; RPCError when stopping
    figures: Callable[[list[ProcessSnapshot]], Mapping[Key, Figures]]
    log_bytes: Callable[[str, str, Channel], tuple[int, int]]  # (written, dropped)
    event_counts: Mapping[str, int]
    rpc_outcomes: Mapping[tuple[str, str], int]


def _client_package() -> None:
    """Make prometheus-client's modules importable without running its package's
    ``__init__``, which loads its HTTP servers and clients and with them OpenSSL: the daemon
    keeps ``ssl`` from loading (resident memory) and its ``http.client`` was imported without
    it, so that ``__init__`` cannot even run here. The registry, the metric families, their
    samples and the ProcessCollector import none of that. When the package is already loaded
    (a test's process), it is used as it is."""
    if "prometheus_client" in sys.modules:
        return
    spec = importlib.util.find_spec("prometheus_client")
    if spec is None:
        raise ModuleNotFoundError("prometheus-client is not installed", name="prometheus_client")
    sys.modules["prometheus_client"] = importlib.util.module_from_spec(spec)  # not executed


class _Families:
    """Metric families being filled, made on first use so that a scrape of an empty daemon
    still has every family it will ever have (with no samples)."""

    def __init__(self) -> None:
        _client_package()
        from prometheus_client.metrics_core import Metric
        from prometheus_client.samples import Sample

        self._metric = Metric
        self._sample = Sample
        self.made: dict[str, Metric] = {}
        self._sample_names: dict[str, str] = {}

    def family(self, name: str, kind: str, documentation: str) -> Metric:
        found = self.made.get(name)
        if found is None:
            found = self.made[name] = self._metric(name, documentation, kind)
            self._sample_names[name] = name + _SAMPLE_SUFFIX.get(kind, "")
        return found

    def add(self, family: Metric, labels: dict[str, str], value: float) -> None:
        family.samples.append(self._sample(self._sample_names[family.name], labels, value))


_PROCESS_FAMILIES = (
    ("vigil_process_up", "gauge", "1 while the process is RUNNING, else 0"),
    ("vigil_process_state", "gauge", "1 for the process's current state, 0 for the others"),
    ("vigil_process_start_time_seconds", "gauge", "Unix time of the last start"),
    ("vigil_process_exit_status", "gauge", "Exit code of the last exit (-1: ended by a signal)"),
    ("vigil_process_restarts", "counter", "Starts the daemon made on its own since the last "
     "start asked for"),
    ("vigil_process_cpu_seconds", "counter", "CPU time of the process and its descendants"),
    ("vigil_process_main_cpu_seconds", "counter", "CPU time of the main process alone"),
    ("vigil_process_resident_memory_bytes", "gauge", "Resident memory of the process and its "
     "descendants"),
    ("vigil_process_main_resident_memory_bytes", "gauge", "Resident memory of the main process"),
    ("vigil_process_open_fds", "gauge", "Open file descriptors of the process and its "
     "descendants"),
    ("vigil_process_main_open_fds", "gauge", "Open file descriptors of the main process"),
    ("vigil_process_tree_processes", "gauge", "Processes in the tree: the main process and its "
     "descendants"),
    ("vigil_log_bytes_written", "counter", "Bytes of output written to the log file"),
    ("vigil_log_bytes_dropped", "counter", "Bytes of output lost because the log file could not "
     "be written"),
)  # fmt: skip


@dataclass(frozen=True)
class _Labels:
    """The label sets of one process's samples, made once and kept while it exists (the
    encoder formats each set once for as long as it sees the same dict)."""

    process: dict[str, str]
    states: tuple[tuple[ProcessState, dict[str, str]], ...]
    channels: tuple[tuple[Channel, dict[str, str]], ...]

    @classmethod
    def of(cls, group: str, name: str) -> _Labels:
        process = {"name": name, "group": group}
        return cls(
            process,
            tuple((state, {**process, "state": state.name}) for state in ProcessState),
            tuple((channel, {**process, "channel": channel}) for channel in _CHANNELS),
        )


class VigilCollector:
    """vigil's own series: the daemon's, then each process's."""

    def __init__(self, sources: MetricSources) -> None:
        self._sources = sources
        self._labels: dict[Key, _Labels] = {}

    def collect(self) -> Iterator[Metric]:
        families = _Families()
        self._daemon(families)
        for name, kind, documentation in _PROCESS_FAMILIES:
            families.family(name, kind, documentation)
        snapshots = self._sources.snapshots()
        figures = self._sources.figures(snapshots)
        known, self._labels = self._labels, {}
        for snapshot in snapshots:
            key = (snapshot.group, snapshot.name)
            labels = known.get(key) or _Labels.of(*key)
            self._labels[key] = labels
            self._process(families, snapshot, labels, figures.get(key))
        yield from families.made.values()

    def _daemon(self, families: _Families) -> None:
        build = families.family("vigil_build", "info", "The running vigil")
        families.add(
            build,
            {
                "version": __version__,
                "supervisor_version": SUPERVISOR_COMPAT_VERSION,
                "python_version": sys.version.split()[0],  # platform.python_version()
            },
            1.0,
        )
        events = families.family("vigil_events", "counter", "Events published, by type")
        for type_name, count in sorted(self._sources.event_counts.items()):
            families.add(events, {"type": type_name}, count)
        requests = families.family(
            "vigil_rpc_requests", "counter", "RPC calls (XML-RPC, JSON API, web), by method and "
            "outcome (SUCCESS or the fault's name)"
        )  # fmt: skip
        for (method, outcome), count in sorted(self._sources.rpc_outcomes.items()):
            families.add(requests, {"method": method, "outcome": outcome}, count)

    def _process(
        self,
        families: _Families,
        snapshot: ProcessSnapshot,
        label_sets: _Labels,
        figures: Figures | None,
    ) -> None:
        made = families.made
        add = families.add
        labels = label_sets.process
        state = snapshot.state
        add(made["vigil_process_up"], labels, 1.0 if state is ProcessState.RUNNING else 0.0)
        state_family = made["vigil_process_state"]
        for each, state_labels in label_sets.states:
            add(state_family, state_labels, 1.0 if each is state else 0.0)
        if snapshot.started_at:
            add(made["vigil_process_start_time_seconds"], labels, snapshot.started_at)
        if snapshot.last_exit is not None:
            add(made["vigil_process_exit_status"], labels, snapshot.last_exit.code)
        add(made["vigil_process_restarts"], labels, snapshot.restarts)
        if figures is not None:
            for name, value in (
                ("vigil_process_cpu_seconds", figures.cpu_seconds),
                ("vigil_process_main_cpu_seconds", figures.cpu_seconds_main),
                ("vigil_process_resident_memory_bytes", figures.rss_bytes),
                ("vigil_process_main_resident_memory_bytes", figures.rss_bytes_main),
                ("vigil_process_open_fds", figures.open_fds),
                ("vigil_process_main_open_fds", figures.open_fds_main),
            ):
                if value is not None:
                    add(made[name], labels, value)
            add(made["vigil_process_tree_processes"], labels, figures.processes)
        for channel, channel_labels in label_sets.channels:
            written, dropped = self._sources.log_bytes(snapshot.group, snapshot.name, channel)
            add(made["vigil_log_bytes_written"], channel_labels, written)
            add(made["vigil_log_bytes_dropped"], channel_labels, dropped)


class NodeExporterCollector:
    """node_exporter's supervisord series, computed as it computes them from
    getAllProcessInfo: up while STARTING, RUNNING or STOPPING, the state's code, Supervisor's
    exit status, the start time (whole seconds) only while up; and ``node_supervisord_uptime``,
    the seconds since that start while up. The start time is typed a gauge here (a counter
    there, whose name prometheus-client would give a ``_total``): the name, which queries use,
    is node_exporter's."""

    def __init__(self, snapshots: Callable[[], list[ProcessSnapshot]]) -> None:
        self._snapshots = snapshots

    def collect(self) -> Iterator[Metric]:
        families = _Families()
        up = families.family("node_supervisord_up", "gauge", "Process Up")
        state = families.family("node_supervisord_state", "gauge", "Process State")
        exit_status = families.family(
            "node_supervisord_exit_status", "gauge", "Process Exit Status"
        )
        start = families.family(
            "node_supervisord_start_time_seconds", "gauge", "Process start time"
        )
        uptime = families.family(
            "node_supervisord_uptime", "gauge", "Seconds since the process started, while up"
        )
        for snapshot in self._snapshots():
            labels = {"name": snapshot.name, "group": snapshot.group}
            live = snapshot.state in _LIVE
            families.add(state, labels, int(snapshot.state))
            families.add(exit_status, labels, snapshot.exit_status or 0)
            families.add(up, labels, 1.0 if live else 0.0)
            if live:
                started = float(int(snapshot.started_at))
                families.add(start, labels, started)
                families.add(uptime, labels, max(0.0, int(snapshot.taken_at) - started))
        yield from families.made.values()


class MetricsEndpoint:
    """The route: the registries are made at the first scrape, with prometheus-client."""

    def __init__(self, sources: MetricSources) -> None:
        self._sources = sources
        self._registries: tuple[CollectorRegistry, CollectorRegistry] | None = None
        self._texts = (LabelTexts(), LabelTexts())  # for the plain scrapes, for the compat ones

    def registries(self) -> tuple[CollectorRegistry, CollectorRegistry]:
        """(vigil's, vigil's with node_exporter's names beside)."""
        if self._registries is None:
            _client_package()
            from prometheus_client.process_collector import ProcessCollector
            from prometheus_client.registry import CollectorRegistry

            plain = CollectorRegistry(auto_describe=False)
            compat = CollectorRegistry(auto_describe=False)
            daemon = ProcessCollector(registry=plain)
            vigil = VigilCollector(self._sources)
            plain.register(vigil)
            compat.register(daemon)
            compat.register(vigil)
            compat.register(NodeExporterCollector(self._sources.snapshots))
            self._registries = (plain, compat)
        return self._registries

    async def scrape(self, request: Request) -> Reply:
        query = parse_qs(request.query_string, keep_blank_values=True)
        unknown = sorted(set(query) - {"compat"})
        if unknown:
            return plain_error(400, f"{PATH} takes no parameter {unknown[0]!r} (only compat)")
        wanted = query.get("compat", [""])
        if wanted not in ([""], [COMPAT]):
            return plain_error(400, f"compat={wanted[0]!r}: the only compatibility is {COMPAT}")
        plain, compat = self.registries()
        try:
            registry = compat if wanted == [COMPAT] else plain
            body = self._texts[registry is compat].encode(registry.collect())
        except RPCError as fault:
            return plain_error(503, fault.text)
        return Response(200, body, {"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


def metrics_routes(sources: MetricSources) -> RouteRegistrar:
    endpoint = MetricsEndpoint(sources)

    def register(routes: Routes) -> None:
        routes.add(PATH, endpoint.scrape, ("GET",))

    return register


def readiness_routes(not_ready: Callable[[], Mapping[str, str]]) -> RouteRegistrar:
    """``GET /ready``: 200 when every autostart program is up (RUNNING, which with ``ready =``
    means ready, and healthy where a health check is configured; a oneshot that did its
    job), 503 naming each one that is not and what it is instead. A Kubernetes readiness
    probe takes 200-399 as ready; the body is for the people reading why not."""

    async def ready(request: Request) -> Reply:
        try:
            waiting = dict(not_ready())
        except RPCError as fault:  # the daemon is shutting down: nothing should come here
            waiting = {"supervisord": fault.text}
        body = json.dumps({"ready": not waiting, "not_ready": waiting}, sort_keys=True)
        headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
        return Response(503 if waiting else 200, body.encode() + b"\n", headers)

    def register(routes: Routes) -> None:
        routes.add(READY_PATH, ready, ("GET",))

    return register
