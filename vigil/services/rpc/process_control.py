"""supervisor.* methods that change processes: start, stop, signal, stdin.

Waiting calls await state changes of the runners; a group or "all" operation starts (or
stops) every process first and then waits for all of them together, so stopping many
processes takes as long as the slowest one, not the sum.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from vigil.config.datatypes import signal_number
from vigil.core.naming import split_namespec
from vigil.core.states import RUNNING_STATES, SIGNALLABLE_STATES, STOPPED_STATES, ProcessState
from vigil.faults import Faults, RPCError
from vigil.runtime.command import CommandError
from vigil.runtime.pipes import StdinClosed
from vigil.runtime.process import ProcessRunner
from vigil.runtime.supervisor import Supervisor
from vigil.services.rpc.registry import published

Result = dict[str, Any]
# Supervisor only tests `wait` for truth, so clients that send <int>0</int> (or anything else)
# for it are served as it serves them.
Wait = Any
Waiter = Callable[[], Awaitable[None]]


def _waits(runner: ProcessRunner, state: ProcessState) -> bool:
    """Whether a start asked for still waits for the process's dependencies."""
    return runner.waiting_for is not None and state in STOPPED_STATES


def result(runner: ProcessRunner, code: Faults = Faults.SUCCESS, text: str = "OK") -> Result:
    return {"name": runner.name, "group": runner.group, "status": int(code), "description": text}


class ProcessLookup:
    """Name resolution and the shutdown check shared by every supervisor.* method."""

    supervisor: Supervisor

    def _check_running(self) -> None:
        if self.supervisor.mood < 1:  # SupervisorState.RUNNING
            raise RPCError(Faults.SHUTDOWN_STATE)

    def _lookup(self, namespec: str) -> tuple[str, ProcessRunner | None]:
        """(group name, runner or None for a whole group); BAD_NAME if either is unknown."""
        group_name, process_name = split_namespec(namespec)
        group = self.supervisor.groups.get(group_name)
        if group is None:
            raise RPCError(Faults.BAD_NAME, namespec)
        if process_name is None:
            return group_name, None
        runner = group.runners.get(process_name)
        if runner is None:
            raise RPCError(Faults.BAD_NAME, namespec)
        return group_name, runner

    def _group_runners(self, name: str) -> list[ProcessRunner]:
        group = self.supervisor.groups.get(name)
        if group is None:
            raise RPCError(Faults.BAD_NAME, name)
        return group.in_start_order()

    def _all_runners(self) -> list[ProcessRunner]:
        return list(self.supervisor.runners())


class ProcessControl(ProcessLookup):
    @published
    async def startProcess(self, name: str, wait: Wait = True) -> Any:
        """Start a process.

        @param string name Process name (or ``group:name``, or ``group:*``)
        @param boolean wait Wait for process to be fully started
        @return boolean result Always true unless error
        """
        self._check_running()
        group, runner = self._lookup(name)
        if runner is None:
            return await self.startProcessGroup(group, wait)
        waiter = self._start(runner, name, wait)
        if waiter is not None:
            await waiter()
        return True

    def _start(self, runner: ProcessRunner, name: str, wait: bool) -> Waiter | None:
        """Spawn now; return what to await to know the start succeeded (None: known now)."""
        try:
            runner.check_command()
        except CommandError as exc:
            code = Faults.NO_FILE if exc.missing else Faults.NOT_EXECUTABLE
            raise RPCError(code, exc.message) from None
        if runner.state in RUNNING_STATES:
            raise RPCError(Faults.ALREADY_STARTED, name)
        if runner.state is ProcessState.UNKNOWN:
            raise RPCError(Faults.FAILED, f"{name} is in an unknown process state")
        self.supervisor.start(runner)  # after its dependencies, when it has some
        if runner.snapshot().spawn_error and runner.waiting_for is None:
            raise RPCError(Faults.SPAWN_ERROR, name)
        if not wait or runner.state is ProcessState.RUNNING:
            return None

        async def started() -> None:
            # waiting for dependencies (STOPPED, waiting_for said), then for the start
            await runner.wait_for(lambda state: not _waits(runner, state))
            if runner.state in STOPPED_STATES:  # a dependency failed, or a stop cancelled
                code = Faults.SPAWN_ERROR if runner.snapshot().spawn_error else None
                raise RPCError(code or Faults.ABNORMAL_TERMINATION, name)
            await runner.wait_for(lambda state: state is not ProcessState.STARTING)
            if runner.snapshot().spawn_error:
                raise RPCError(Faults.SPAWN_ERROR, name)
            if runner.state is not ProcessState.RUNNING:
                raise RPCError(Faults.ABNORMAL_TERMINATION, name)

        return started

    @published
    async def startProcessGroup(self, name: str, wait: Wait = True) -> list[Result]:
        """Start all processes in the group named 'name'.

        @param string name The group name
        @param boolean wait Wait for each process to be fully started
        @return array result An array of process status info structs
        """
        self._check_running()
        runners = self._group_runners(name)
        return await self._for_each(
            runners, lambda r: r.state not in RUNNING_STATES, lambda r, n: self._start(r, n, wait)
        )

    @published
    async def startAllProcesses(self, wait: Wait = True) -> list[Result]:
        """Start all processes listed in the configuration file.

        @param boolean wait Wait for each process to be fully started
        @return array result An array of process status info structs
        """
        self._check_running()
        return await self._for_each(
            self._all_runners(),
            lambda r: r.state not in RUNNING_STATES,
            lambda r, n: self._start(r, n, wait),
        )

    @published
    async def stopProcess(self, name: str, wait: Wait = True) -> Any:
        """Stop a process named by name.

        @param string name The name of the process to stop (or 'group:name')
        @param boolean wait Wait for the process to be fully stopped
        @return boolean result Always return True unless error
        """
        self._check_running()
        group, runner = self._lookup(name)
        if runner is None:
            return await self.stopProcessGroup(group, wait)
        waiter = self._stop(runner, name, wait)
        if waiter is not None:
            await waiter()
        return True

    def _stop(self, runner: ProcessRunner, name: str, wait: bool) -> Waiter | None:
        gate = self.supervisor.dependencies
        if gate is not None and gate.cancel(runner) and runner.state in STOPPED_STATES:
            return None  # it was waiting for its dependencies: it waits no more
        if runner.state is ProcessState.FATAL and runner.snapshot().next_attempt_at is not None:
            runner.stop()  # FATAL waiting for its fatal_retry: the stop cancels the retry
            return None
        if runner.state not in RUNNING_STATES:
            raise RPCError(Faults.NOT_RUNNING, name)
        runner.stop()
        if runner.state is ProcessState.UNKNOWN:
            raise RPCError(Faults.FAILED, f"{name} is in an unknown process state")
        if not wait or runner.state in STOPPED_STATES:
            return None

        async def stopped() -> None:
            await runner.wait_for(STOPPED_STATES.__contains__)

        return stopped

    @published
    async def stopProcessGroup(self, name: str, wait: Wait = True) -> list[Result]:
        """Stop all processes in the process group named 'name'.

        @param string name The group name
        @param boolean wait Wait for each process to be fully stopped
        @return array result An array of process status info structs
        """
        self._check_running()
        results: list[Result] = []
        for wave in self.supervisor.stop_waves(self._group_runners(name)):
            results += await self._for_each(
                wave, lambda r: self._stoppable(r), lambda r, n: self._stop(r, n, wait)
            )
        return results

    @published
    async def stopAllProcesses(self, wait: Wait = True) -> list[Result]:
        """Stop all processes in the process list (in start order, as Supervisor 4.3 does).

        @param boolean wait Wait for each process to be fully stopped
        @return array result An array of process status info structs
        """
        self._check_running()
        results: list[Result] = []
        # dependents before what they depend on (one wave without dependencies)
        for wave in self.supervisor.stop_waves(self._all_runners()):
            results += await self._for_each(
                wave, lambda r: self._stoppable(r), lambda r, n: self._stop(r, n, wait)
            )
        return results

    def _stoppable(self, runner: ProcessRunner) -> bool:
        gate = self.supervisor.dependencies
        return runner.state in RUNNING_STATES or (gate is not None and gate.waiting(runner))

    @published
    async def signalProcess(self, name: str, signal: str | int) -> Any:
        """Send an arbitrary UNIX signal to the process named by name.

        @param string name Name of the process to signal (or 'group:name')
        @param string signal Signal to send, as name ('HUP') or number ('1')
        @return boolean
        """
        self._check_running()
        group, runner = self._lookup(name)
        if runner is None:
            return await self.signalProcessGroup(group, signal)
        self._signal(runner, name, self._signal_number(signal))
        return True

    def _signal_number(self, signal: str | int) -> int:
        try:
            return signal_number(str(signal))
        except ValueError:
            raise RPCError(Faults.BAD_SIGNAL, str(signal)) from None

    def _signal(self, runner: ProcessRunner, name: str, number: int) -> None:
        if runner.state not in SIGNALLABLE_STATES:
            raise RPCError(Faults.NOT_RUNNING, name)
        runner.signal(number)
        if runner.state is ProcessState.UNKNOWN:
            raise RPCError(Faults.FAILED, f"{name} is in an unknown process state")

    @published
    async def signalProcessGroup(self, name: str, signal: str | int) -> list[Result]:
        """Send a signal to all processes in the group named 'name'.

        @param string name The group name
        @param string signal Signal to send, as name ('HUP') or number ('1')
        @return array
        """
        self._check_running()
        return self._signal_each(self._group_runners(name), signal)

    @published
    async def signalAllProcesses(self, signal: str | int) -> list[Result]:
        """Send a signal to all processes in the process list.

        @param string signal Signal to send, as name ('HUP') or number ('1')
        @return array An array of process status info structs
        """
        self._check_running()
        return self._signal_each(self._all_runners(), signal)

    def _signal_each(self, runners: list[ProcessRunner], signal: str | int) -> list[Result]:
        results = []
        for runner in runners:
            if runner.state not in SIGNALLABLE_STATES:
                continue
            try:
                self._signal(runner, runner.namespec, self._signal_number(signal))
            except RPCError as exc:
                results.append(result(runner, exc.code, exc.text))
            else:
                results.append(result(runner))
        return results

    @published
    async def sendProcessStdin(self, name: str, chars: Any) -> bool:
        """Send a string of chars to the stdin of the process name (UTF-8 encoded).

        @param string name The process name to send to (or 'group:name')
        @param string chars The character data to send to the process
        @return boolean result Always return True unless error
        """
        self._check_running()
        if not isinstance(chars, str | bytes):
            # checked before the name, and the fault shows the value, as in 4.3.0
            raise RPCError(Faults.INCORRECT_PARAMETERS, str(chars))
        data = chars.encode("utf-8") if isinstance(chars, str) else chars
        _, runner = self._lookup(name)
        if runner is None:
            raise RPCError(Faults.BAD_NAME, name)
        # Supervisor refuses while "killing", which is exactly STOPPING here
        if not runner.pid or runner.state is ProcessState.STOPPING:
            raise RPCError(Faults.NOT_RUNNING, name)
        try:
            runner.write_stdin(data)
        except StdinClosed:
            raise RPCError(Faults.NO_FILE, name) from None
        return True

    async def _for_each(
        self,
        runners: Iterable[ProcessRunner],
        wanted: Callable[[ProcessRunner], bool],
        act: Callable[[ProcessRunner, str], Waiter | None],
    ) -> list[Result]:
        """Act on every wanted runner, then await the deferred ones together.

        Results come as Supervisor's do: immediate outcomes first, in order; then each
        deferred one as it completes (ties in list order).
        """
        results: list[Result] = []
        pending: dict[asyncio.Future[None], ProcessRunner] = {}
        order: list[ProcessRunner] = []
        for runner in runners:
            if not wanted(runner):
                continue
            try:
                waiter = act(runner, runner.namespec)
            except RPCError as exc:
                results.append(result(runner, exc.code, exc.text))
                continue
            if waiter is None:
                results.append(result(runner))
            else:
                pending[asyncio.ensure_future(waiter())] = runner
                order.append(runner)
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            finished = {pending.pop(task): task for task in done}
            for runner in [r for r in order if r in finished]:
                error = finished[runner].exception()
                if isinstance(error, RPCError):
                    results.append(result(runner, error.code, error.text))
                elif error is not None:
                    raise error
                else:
                    results.append(result(runner))
        return results
