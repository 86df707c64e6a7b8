"""API: the XML-RPC interface under single calls and under concurrent clients, on the fleet.

Times are from sending a request to the last byte of its answer (parsing happens after the
clock stops), so they are the daemon's and the transport's, not this client's XML parser's.
"""

from __future__ import annotations

from bench.daemons import Daemon
from bench.metrics import Measured, Metric
from bench.traffic import load_clients, start_in
from bench.waiting import BenchError
from bench.workloads.base import FleetWorkload

CLIENT_STARTUP = 1.0  # head start for the client processes before their common start
READY_TIMEOUT = 30.0


class ApiWorkload(FleetWorkload):
    name = "api"
    description = "XML-RPC calls: one at a time on new connections, and concurrent clients"

    def metrics(self) -> list[Metric]:
        sizes = self.sizes
        return [
            self.metric("getstate", "getState, a new connection each call", "ms"),
            self.metric(
                "getallprocessinfo", f"getAllProcessInfo, {sizes.fleet_programs} programs", "ms"
            ),
            self.metric(
                "concurrent",
                f"getState, {sizes.concurrent_clients} concurrent clients",
                "req/s",
                higher_is_better=True,
            ),
        ]

    def measure_on(self, daemon: Daemon, out: Measured) -> None:
        sizes = self.sizes
        total = 0.0
        for _ in range(sizes.getstate_calls):
            elapsed, _state = daemon.client().timed_call("supervisor.getState")
            total += elapsed
        out["api.getstate"] = [total / sizes.getstate_calls * 1000]
        samples = []
        for _ in range(sizes.getallprocessinfo_calls):
            elapsed, infos = daemon.client().timed_call("supervisor.getAllProcessInfo")
            if len(infos) != sizes.fleet_programs:
                raise BenchError(f"{daemon.side}: getAllProcessInfo gave {len(infos)} programs")
            samples.append(elapsed * 1000)
        out["api.getallprocessinfo"] = samples
        out["api.concurrent"] = [self._throughput(daemon)]

    def _throughput(self, daemon: Daemon) -> float:
        count, seconds = self.sizes.concurrent_clients, self.sizes.concurrent_seconds
        with load_clients(daemon.sock, count, start_in(CLIENT_STARTUP), seconds) as clients:
            for client in clients:
                client.wait_ready(READY_TIMEOUT + CLIENT_STARTUP)
            reports = [client.finish(stop=False) for client in clients]
        failed = sum(report[1] for report in reports)
        if failed:
            raise BenchError(f"{daemon.side}: {failed} getState calls failed under load")
        return sum(report[0] for report in reports) / seconds
