"""bench.streams' run: every part of every repetition on fresh daemons, the samples pooled,
a failure recorded and the run carried on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.daemons import Daemon, Side, workspace
from bench.entry import progress
from bench.processes import end_descendants
from bench.streams_http import log_stream_target
from bench.streams_measure import (
    fleet_config,
    fleet_programs,
    follow_lines,
    latency_programs,
    line_timeout,
    measure_state_changes,
    rest_window,
    sleeper_namespecs,
    timed_lists,
    timed_write,
)
from bench.streams_profile import SLOWEST_RATE, STEP_TIMEOUT, Profile, figures
from bench.streams_subscribers import Subscribers
from bench.waiting import BenchError, wait_for
from bench.workloads.base import wait_sleeping


@dataclass
class Run:
    profile: Profile
    reps: int
    samples: dict[str, list[float]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.samples = {figure.key: [] for figure in figures(self.profile)}

    def record(self, key: str, value: float) -> None:
        self.samples[key].append(value)

    def measure(self) -> None:
        try:
            for rep in range(1, self.reps + 1):
                details = self.details.setdefault(str(rep), {})
                for part, action in (
                    ("latency, vigil", self._vigil_latency),
                    ("latency, Supervisor 4.3.0", self._supervisor_latency),
                    (f"{self.profile.programs} programs, vigil", self._fleet),
                ):
                    self._attempt(rep, part, lambda a=action, d=details: a(d))
        except KeyboardInterrupt:
            self.interrupted = True
            progress("interrupted: ending every process started, reporting what we have")
        finally:
            end_descendants()

    def _attempt(self, rep: int, part: str, action: Callable[[], None]) -> None:
        started = time.monotonic()
        outcome = "ok"
        try:
            action()
        except Exception as exc:  # a fault, a refused connection: report it, carry on
            reason = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
            outcome = f"FAILED: {reason}"
            self.problems.append(f"repetition {rep}, {part}: {reason}")
        elapsed = time.monotonic() - started
        progress(f"[{rep}/{self.reps}] {part:32} {elapsed:7.1f} s  {outcome}")

    def _vigil_latency(self, details: dict[str, Any]) -> None:
        profile = self.profile
        with workspace() as tmp, Daemon(Side.VIGIL, tmp, latency_programs(tmp, profile)) as daemon:
            daemon.start()
            measure_state_changes(
                daemon, profile.changes, self.record, details.setdefault("state", {})
            )
            daemon.call("supervisor.startProcess", "ticker", True)
            for key, target, sse in (
                ("line_logtail_vigil", "/logtail/ticker", False),
                ("line_sse_vigil", log_stream_target("ticker"), True),
            ):
                samples = follow_lines(daemon, target, sse, profile.lines, line_timeout(profile))
                self.samples[key].extend(samples)

    def _supervisor_latency(self, details: dict[str, Any]) -> None:
        profile = self.profile
        with workspace() as tmp:
            programs = latency_programs(tmp, profile)
            with Daemon(Side.SUPERVISOR, tmp, programs) as daemon:
                daemon.start()
                daemon.call("supervisor.startProcess", "ticker", True)
                samples = follow_lines(
                    daemon, "/logtail/ticker", False, profile.lines, line_timeout(profile)
                )
                self.samples["line_logtail_supervisor"].extend(samples)

    def _fleet(self, details: dict[str, Any]) -> None:
        profile = self.profile
        fleet = details.setdefault("fleet", {})
        with workspace() as tmp:
            daemon = Daemon(Side.VIGIL, tmp, fleet_programs(tmp, profile))
            with daemon:
                fleet_config(daemon, profile)
                daemon.start()
                wait_sleeping(daemon, profile.programs, timeout=60.0 + profile.programs * 0.1)
                timed_lists(daemon, profile, self.record, fleet)
                time.sleep(1.0)
                alone = rest_window(daemon.pid, profile.rest_seconds)
                fleet["rest_alone"] = alone
                self._rest("alone", alone)
                self._writes(daemon, tmp / "writer.log", fleet)

    def _rest(self, which: str, window: dict[str, float]) -> None:
        self.record(f"rest_cpu_{which}", window["cpu_ms_per_s"])
        self.record(f"rest_exact_{which}", window["exact_ms_per_s"])
        self.record(f"rest_wakeups_{which}", window["wakeups_per_s"])

    def _subscribers(self, daemon: Daemon) -> Subscribers:
        profile = self.profile
        lifetime = 600.0 + profile.write_bytes / SLOWEST_RATE
        namespecs = sleeper_namespecs(min(profile.subscribers, profile.programs))
        return Subscribers(daemon, profile.subscribers, namespecs, lifetime)

    def _writes(self, daemon: Daemon, log: Path, fleet: dict[str, Any]) -> None:
        profile = self.profile
        total = profile.write_bytes
        rested = False
        clients: list[dict[str, Any]] = fleet.setdefault("subscriber_client", [])
        for pair in range(profile.pairs):
            order = ("alone", "subscribed") if pair % 2 == 0 else ("subscribed", "alone")
            timed: dict[str, float] = {}
            for which in order:
                if which == "alone":
                    timed[which] = timed_write(daemon, log, total)
                    self.record("write_alone", timed[which])
                    continue
                with self._subscribers(daemon) as client:
                    client.wait_ready(60.0 + profile.subscribers * 0.2)
                    if not rested:
                        rested = True
                        fleet["rest_subscribed"] = self._rest_subscribed(daemon, client)
                    before = client.stats()
                    timed[which] = timed_write(daemon, log, total)
                    # the writer's EXITED has been published: give the streams a moment
                    after = wait_for(
                        lambda b=before: _writer_seen(client, b, profile.subscribers),
                        timeout=STEP_TIMEOUT,
                        interval=0.05,
                        what="every event stream to receive the writer's state changes",
                    )
                    clients.append({"before_write": before, "after_write": after})
                    if after["closed"] or after["lost"]:
                        raise BenchError(f"subscriber streams closed or lost messages: {after}")
                self.record("write_subscribed", timed[which])
            self.record("write_ratio", timed["subscribed"] / timed["alone"])

    def _rest_subscribed(self, daemon: Daemon, client: Subscribers) -> dict[str, Any]:
        profile = self.profile
        if profile.over_keepalive:
            from vigil.http.event_stream import KEEPALIVE

            assert client.ready_at is not None
            start = client.ready_at + KEEPALIVE - profile.rest_seconds / 2
            time.sleep(max(0.0, start - time.monotonic()))
        else:
            time.sleep(1.0)
        before = client.stats()
        window: dict[str, Any] = dict(rest_window(daemon.pid, profile.rest_seconds))
        after = client.stats()
        window["keepalives_in_window"] = after["keepalives"] - before["keepalives"]
        window["messages_in_window"] = (after["event_messages"] + after["log_messages"]) - (
            before["event_messages"] + before["log_messages"]
        )
        window["streams"] = after["connections"]
        if profile.over_keepalive and after["keepalives_min"] < 1:
            raise BenchError(f"the rest window missed some keep-alives: {after}")
        self._rest("subscribed", window)
        return window


def _writer_seen(client: Subscribers, before: dict[str, Any], count: int) -> dict[str, Any] | None:
    """The client's counts once every event stream has had the writer's three changes
    (STARTING, RUNNING, EXITED) since `before`."""
    after = client.stats()
    wanted = before["event_messages_min"] + 3
    return after if after["event_messages_min"] >= wanted else None
