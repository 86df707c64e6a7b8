"""How big and how often: the full run, the quick run, and the smoke run used by the tests.

Every size the workloads use lives here, so that a quick run is the full run made smaller
and never a different benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    mode: str
    repetitions: int
    start_counts: tuple[int, ...]  # programs started with the daemon
    start_secs: tuple[int, ...]  # startsecs values tried for each count
    start_stop_programs: int  # startAllProcesses / stopAllProcesses / SIGTERM
    kills: int  # kill -9 per repetition and variant
    single_bytes: int  # one child's output
    many_children: int
    many_bytes: int  # output of each of the many children
    rotated_bytes: int  # output of the child whose log rotates
    rotate_maxbytes: int
    rotate_backups: int
    fleet_programs: int  # RUNNING programs for the api, rest and cli workloads
    settle_seconds: float  # quiet time after the fleet is up, before measuring at rest
    rest_seconds: float
    getstate_calls: int
    getallprocessinfo_calls: int
    concurrent_clients: int
    concurrent_seconds: float
    ctl_runs: int  # runs of each supervisorctl command per repetition


FULL = Sizes(
    mode="full",
    repetitions=5,
    start_counts=(10, 100, 500),
    start_secs=(0, 1),
    start_stop_programs=100,
    kills=5,
    single_bytes=200 * MIB,
    many_children=10,
    many_bytes=20 * MIB,
    rotated_bytes=100 * MIB,
    rotate_maxbytes=10 * MIB,
    rotate_backups=3,
    fleet_programs=500,
    settle_seconds=2.0,
    rest_seconds=30.0,
    getstate_calls=1000,
    getallprocessinfo_calls=20,
    concurrent_clients=4,
    concurrent_seconds=5.0,
    ctl_runs=3,
)

QUICK = Sizes(
    mode="quick",
    repetitions=2,
    start_counts=(10, 500),
    start_secs=(0,),
    start_stop_programs=100,
    kills=3,
    single_bytes=50 * MIB,
    many_children=10,
    many_bytes=5 * MIB,
    rotated_bytes=20 * MIB,
    rotate_maxbytes=2 * MIB,
    rotate_backups=3,
    fleet_programs=500,
    settle_seconds=1.0,
    rest_seconds=5.0,
    getstate_calls=200,
    getallprocessinfo_calls=5,
    concurrent_clients=4,
    concurrent_seconds=2.0,
    ctl_runs=2,
)

SMOKE = Sizes(
    mode="smoke",
    repetitions=1,
    start_counts=(3,),
    start_secs=(0,),
    start_stop_programs=3,
    kills=1,
    single_bytes=1 * MIB,
    many_children=3,
    many_bytes=1 * MIB,
    rotated_bytes=1 * MIB,
    rotate_maxbytes=MIB // 4,
    rotate_backups=3,
    fleet_programs=3,
    settle_seconds=0.2,
    rest_seconds=1.0,
    getstate_calls=10,
    getallprocessinfo_calls=2,
    concurrent_clients=4,
    concurrent_seconds=0.5,
    ctl_runs=1,
)

PROFILES = {sizes.mode: sizes for sizes in (FULL, QUICK, SMOKE)}
