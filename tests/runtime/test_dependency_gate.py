"""The dependency gate on a real supervisor with real children: what a change of one process
costs (counted, never timed), and waits whose targets come and go with groups."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.runtime.conftest import Harness, MemorySink
from vigil.config.dependencies import Condition, Dependency
from vigil.config.model import GroupConfig, ProcessConfig
from vigil.core.events import Event
from vigil.core.states import ProcessState as S
from vigil.runtime.dependencies import DependencyGate
from vigil.runtime.process import ProcessRunner
from vigil.runtime.supervisor import Supervisor

WIDTH = 12


def group(name: str, count: int = 1, **options: object) -> GroupConfig:
    """`count` processes of `sleep 100` (RUNNING at once unless `startsecs` says otherwise),
    not started by themselves; named like the group when there is one, else name_00, name_01..."""
    names = [name] if count == 1 else [f"{name}_{n:02d}" for n in range(count)]
    settings: dict[str, object] = {"startsecs": 0, "autostart": False, "stopwaitsecs": 5}
    processes = tuple(
        ProcessConfig(
            name=each,
            group=name,
            command="sleep 100",
            **{**settings, **options},  # type: ignore[arg-type]
        )
        for each in names
    )
    return GroupConfig(name, 999, processes)


def waits_for(target: str, condition: Condition = Condition.RUNNING) -> tuple[Dependency, ...]:
    """A dependency that only waits (as dependent_startup_wait_for): the test starts it."""
    return (Dependency(target, condition, pull=False),)


@pytest.fixture
async def supervisor(harness: Harness) -> AsyncIterator[Supervisor]:
    made = Supervisor(harness.context, lambda config: (MemorySink(), MemorySink()))
    yield made
    runners = [r for g in made.groups.values() for r in g.runners.values()]
    if made.dependencies is not None:
        made.dependencies.clear()
    for runner in runners:
        if runner.state in (S.RUNNING, S.STARTING):
            runner.stop()
    for runner in runners:
        await harness.reach(runner, S.STOPPED, S.EXITED, S.FATAL)
        runner.close()


def gate_of(supervisor: Supervisor) -> DependencyGate:
    assert supervisor.dependencies is not None
    return supervisor.dependencies


def runners(supervisor: Supervisor, name: str) -> list[ProcessRunner]:
    return supervisor.groups[name].in_start_order()


async def test_a_change_checks_only_the_dependents_waiting_on_what_changed(
    harness: Harness, supervisor: Supervisor
) -> None:
    """WIDTH dependents (one program) each wait for the same WIDTH processes: they share
    what they wait for, and one process changing costs one check of its own pair, not a
    decision over every target for every dependent (which made a chain of layers quadratic
    in their width)."""
    per_event: list[int] = []
    at_start: list[int] = []
    harness.bus.subscribe("PROCESS_STATE", lambda e: at_start.append(gate_of(supervisor).checks))
    supervisor.add_group(group("db", WIDTH))
    supervisor.add_group(group("app", WIDTH, depends_on=waits_for("db:*")))
    gate = gate_of(supervisor)

    def after(event: Event) -> None:  # the gate has handled the event (and what it caused)
        per_event.append(gate.checks - at_start.pop())

    harness.bus.subscribe("PROCESS_STATE", after)
    for runner in runners(supervisor, "app"):
        supervisor.start(runner)
    assert gate.checks == WIDTH  # every target checked once, as the first wait began
    assert runners(supervisor, "app")[0].waiting_for == ", ".join(
        f"db:db_{n:02d} (running)" for n in range(WIDTH)
    )
    for runner in runners(supervisor, "db"):
        runner.start()  # STARTING, then RUNNING
    for runner in runners(supervisor, "app"):
        await harness.reach(runner, S.RUNNING)
    assert len(per_event) >= 2 * WIDTH  # db's STARTING and RUNNING, app's own
    assert max(per_event) == 1, per_event  # its own pair, once for all its dependents
    assert gate.checks <= WIDTH + len(per_event)
    assert all(r.waiting_for is None for r in runners(supervisor, "app"))


async def test_a_dependency_removed_while_waited_for_is_waited_for_until_added_again(
    harness: Harness, supervisor: Supervisor
) -> None:
    supervisor.add_group(group("db"))
    supervisor.add_group(group("app", depends_on=waits_for("db")))
    (app,) = runners(supervisor, "app")
    supervisor.start(app)
    assert app.waiting_for == "db (running)"
    assert supervisor.remove_group("db")
    assert app.state is S.STOPPED and gate_of(supervisor).waiting(app)
    assert app.waiting_for == "db (not loaded)"
    supervisor.add_group(group("db"))  # as `update` does with a changed section
    assert app.waiting_for == "db (running)"
    (db,) = runners(supervisor, "db")
    db.start()  # the new process, not the removed one
    await harness.reach(app, S.RUNNING)
    assert app.waiting_for is None


async def test_a_dependency_added_after_the_wait_began_is_started_and_waited_for(
    harness: Harness, supervisor: Supervisor
) -> None:
    """`update` adding a dependent before its dependency: the dependent waits for the name,
    and starting it starts the dependency once it is added (as it starts the others)."""
    supervisor.add_group(group("app", depends_on=(Dependency("db", Condition.RUNNING),)))
    (app,) = runners(supervisor, "app")
    supervisor.start(app)
    assert app.state is S.STOPPED and app.waiting_for == "db (not loaded)"
    supervisor.add_group(group("db"))
    (db,) = runners(supervisor, "db")
    assert db.state in (S.STARTING, S.RUNNING)  # started by the waiting dependent
    await harness.reach(app, S.RUNNING)


async def test_a_dependency_failing_for_good_makes_the_waiting_dependent_fatal(
    harness: Harness, supervisor: Supervisor
) -> None:
    supervisor.add_group(group("db", 3))
    supervisor.add_group(group("app", depends_on=waits_for("db:*")))
    (app,) = runners(supervisor, "app")
    supervisor.start(app)
    first, second, _ = runners(supervisor, "db")
    first.start()
    await harness.reach(first, S.RUNNING)
    assert app.waiting_for == "db:db_01 (running), db:db_02 (running)"
    second.start()
    second.stop()
    await harness.reach(second, S.STOPPED)
    assert app.waiting_for == "db:db_01 (running), db:db_02 (running)"  # in depends_on order
    second.block("test: for good")  # FATAL, no retry pending
    await harness.reach(app, S.FATAL)
    assert app.snapshot().spawn_error == "dependency db:db_01 is FATAL"
    assert not gate_of(supervisor).waiting(app)


async def test_binds_to_still_stops_and_starts_after_a_group_was_removed(
    harness: Harness, supervisor: Supervisor
) -> None:
    supervisor.add_group(group("db"))
    supervisor.add_group(group("app", binds_to=("db",), depends_on=waits_for("db")))
    supervisor.add_group(group("other"))
    (db,), (app,), (other,) = (runners(supervisor, n) for n in ("db", "app", "other"))
    db.start()
    supervisor.start(app)
    await harness.reach(app, S.RUNNING)
    other.start()
    other.stop()  # leaves RUNNING, binds nothing
    await harness.reach(other, S.STOPPED)
    assert supervisor.remove_group("other")
    assert app.state is S.RUNNING
    db.stop()
    await harness.reach(app, S.STOPPED)
    assert app.waiting_for == "db (running)"
    db.start()
    await harness.reach(app, S.RUNNING)


async def test_programs_waiting_on_one_process_are_each_decided_by_their_condition(
    harness: Harness, supervisor: Supervisor
) -> None:
    supervisor.add_group(group("db", startsecs=1))  # STARTING for a second, then RUNNING
    supervisor.add_group(group("early", 2, depends_on=waits_for("db", Condition.STARTED)))
    supervisor.add_group(group("late", 2, depends_on=waits_for("db", Condition.RUNNING)))
    for name in ("early", "late"):
        for runner in runners(supervisor, name):
            supervisor.start(runner)
    assert gate_of(supervisor).checks == 2  # one need per program, db checked once for each
    (db,) = runners(supervisor, "db")
    db.start()
    assert all(r.state in (S.STARTING, S.RUNNING) for r in runners(supervisor, "early"))
    assert all(r.state is S.STOPPED for r in runners(supervisor, "late"))
    assert runners(supervisor, "late")[1].waiting_for == "db (running)"
    for runner in runners(supervisor, "late"):
        await harness.reach(runner, S.STARTING, S.RUNNING)
    assert db.state is S.RUNNING
