"""The workload families, in the order they run and appear in the table."""

from __future__ import annotations

from bench.profiles import Sizes
from bench.workloads.api import ApiWorkload
from bench.workloads.base import FleetWorkload, Workload
from bench.workloads.ctl import CtlWorkload
from bench.workloads.output import OutputWorkload
from bench.workloads.reaction import ReactionWorkload
from bench.workloads.rest import RestWorkload
from bench.workloads.start import StartWorkload

STANDALONE: tuple[type[Workload], ...] = (StartWorkload, ReactionWorkload, OutputWorkload)
# The fleet families share one daemon per side; rest goes first, while nobody has talked to it.
FLEET: tuple[type[FleetWorkload], ...] = (RestWorkload, ApiWorkload, CtlWorkload)
NAMES = tuple(family.name for family in STANDALONE) + tuple(family.name for family in FLEET)


def standalone(sizes: Sizes, only: set[str]) -> list[Workload]:
    return [family(sizes) for family in STANDALONE if family.name in only]


def fleet(sizes: Sizes, only: set[str]) -> list[FleetWorkload]:
    return [family(sizes) for family in FLEET if family.name in only]
