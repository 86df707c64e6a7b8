"""Fixtures of the supervisorctl tests: the daemon kinds to run against, and daemons that are
always stopped at the end of the test, whatever happened."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.ctl.harness import DAEMON_KINDS, TestDaemon, Twins
from tests.daemon.daemonized import Started


@pytest.fixture(params=DAEMON_KINDS, scope="module")
def daemon_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def start_daemon() -> Iterator[Callable[..., TestDaemon]]:
    """``start_daemon(kind, programs, rpcinterface=True, inet=False)``: a running daemon."""
    started: list[TestDaemon] = []

    def start(kind: str, programs: str, **options: Any) -> TestDaemon:
        daemon = TestDaemon(kind, programs, **options)
        started.append(daemon)
        return daemon.start()

    yield start
    for daemon in started:
        daemon.stop()


@pytest.fixture
def start_daemonized(cleanup: Started) -> Iterator[Callable[..., TestDaemon]]:
    """``start_daemonized(kind, programs, **options)``: a running daemon started as users
    start one (it detaches), stopped at the end of the test; it and its children are also
    in `cleanup`, which kills what a failed stop left."""
    started: list[TestDaemon] = []

    def start(kind: str, programs: str, **options: Any) -> TestDaemon:
        daemon = TestDaemon(kind, programs, daemonized=True, **options)
        started.append(daemon)
        daemon.start()
        cleanup.append(daemon.pid)
        return daemon

    yield start
    for daemon in started:
        daemon.stop()


@pytest.fixture
def start_twins() -> Iterator[Callable[..., Twins]]:
    """``start_twins(kind, programs, prepare=None, **daemon_options)``: two running daemons
    from one configuration, for Supervisor's supervisorctl and vigil's."""
    started: list[Twins] = []

    def start(kind: str, programs: str, prepare: Any = None, **options: Any) -> Twins:
        pair = Twins(kind, programs, **options)
        started.append(pair)
        return pair.start(prepare)

    yield start
    for pair in started:
        pair.stop()
