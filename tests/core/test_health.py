"""Health from check results (issue 14), as Docker counts them, without sleeping; and the
health events' place in the type table (vigil-only)."""

from __future__ import annotations

from vigil.core.events import ProcessHealthChanged
from vigil.core.health import Health, HealthTracker
from vigil.event_types import SUBSCRIBABLE, VIGIL_ROOT, lineage


def test_starting_until_a_pass_then_healthy() -> None:
    tracker = HealthTracker(retries=3)
    tracker.reset(0.0)
    assert tracker.state is Health.STARTING
    assert tracker.record(True, 1.0) is Health.HEALTHY
    assert tracker.record(True, 2.0) is None  # no change, no news


def test_retries_failures_in_a_row_make_it_unhealthy_one_pass_heals() -> None:
    tracker = HealthTracker(retries=3)
    tracker.reset(0.0)
    tracker.record(True, 1.0)
    assert tracker.record(False, 2.0) is None
    assert tracker.record(False, 3.0) is None
    assert tracker.record(True, 4.0) is None and tracker.state is Health.HEALTHY
    assert tracker.failures == 0  # a pass starts the count again
    for at in (5.0, 6.0):
        assert tracker.record(False, at) is None
    assert tracker.record(False, 7.0) is Health.UNHEALTHY
    assert tracker.record(False, 8.0) is None
    assert tracker.record(True, 9.0) is Health.HEALTHY


def test_failures_within_the_start_period_do_not_count() -> None:
    tracker = HealthTracker(retries=1, start_period=10.0)
    tracker.reset(100.0)
    assert tracker.record(False, 105.0) is None and tracker.failures == 0
    assert tracker.record(False, 110.0) is Health.UNHEALTHY


def test_a_pass_ends_the_start_period() -> None:
    tracker = HealthTracker(retries=1, start_period=10.0)
    tracker.reset(0.0)
    tracker.record(True, 1.0)
    assert tracker.record(False, 2.0) is Health.UNHEALTHY


def test_reset_starts_a_new_run() -> None:
    tracker = HealthTracker(retries=1)
    tracker.reset(0.0)
    tracker.record(False, 1.0)
    tracker.reset(5.0)
    assert (tracker.state, tracker.failures, tracker.passed_once) == (Health.STARTING, 0, False)


def test_health_events_are_vigils_own() -> None:
    event = ProcessHealthChanged("web", "web", "healthy", "unhealthy", "exit status 1", 0.0)
    assert event.name == "PROCESS_HEALTH_UNHEALTHY"
    assert lineage(event.name) == ("PROCESS_HEALTH_UNHEALTHY", "PROCESS_HEALTH", VIGIL_ROOT)
    assert event.name not in SUBSCRIBABLE
    assert event.payload() == (
        "processname:web groupname:web from_health:healthy health:unhealthy\nexit status 1"
    )
