"""vigil's operations without downtime from supervisorctl: ``restart --rolling`` and
``scale``, and what ``update`` prints when a group is updated process by process.

They call the ``vigil.*`` namespace, which Supervisor's daemon does not have: there they say
so and exit 3, as ``reopen`` does. Lines are Supervisor's (``web:web_0: stopped``,
``web:web_0: started``), then one line for what could not be done.
"""

from __future__ import annotations

from vigil.ctl.actions.base import COMPLETE_GROUPS, Action, Outcomes, take_json_flag
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.names import make_namespec
from vigil.ctl.output import signal_outcome, start_outcome
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller

MAX_BATCH = 10_000
ROLLING_FLAGS = ("--rolling", "--batch", "--pause")


def not_vigil(what: str, method: str) -> str:
    return f"Error: {what} needs a vigil daemon; this one has no vigil.{method}"


class UsageProblem(Exception):
    """A flag without its value, or a value that is not one."""


def take_rolling_flags(words: list[str]) -> tuple[list[str], bool, int, float]:
    """(the other words, --rolling given, --batch N, --pause SECONDS); UsageProblem names
    the flag that is wrong. --batch and --pause alone are a mistake: they need --rolling."""
    rest: list[str] = []
    rolling, batch, pause = False, 1, 0.0
    given: set[str] = set()
    items = iter(words)
    for word in items:
        flag, equals, value = word.partition("=")
        if flag == "--rolling" and not equals:
            rolling = True
            continue
        if flag not in ("--batch", "--pause"):
            rest.append(word)
            continue
        if not equals:
            value = next(items, "")
        given.add(flag)
        if flag == "--batch":
            batch = _number(value, int, 1, MAX_BATCH, "--batch", "a number of processes")
        else:
            pause = _number(value, float, 0, 86_400, "--pause", "seconds")
    if given and not rolling:
        raise UsageProblem(f"{' and '.join(sorted(given))} go with --rolling")
    return rest, rolling, batch, pause


def _number(text: str, kind: type[int] | type[float], low: int, high: int, flag: str,
            what: str) -> int:  # fmt: skip
    try:
        value = kind(text)
    except ValueError:
        raise UsageProblem(f"{flag} needs {what} ({low} to {high}), not {text!r}") from None
    if not low <= value <= high or value != value:  # NaN
        raise UsageProblem(f"{flag} needs {what} ({low} to {high}), not {text!r}")
    return value  # type: ignore[return-value]


def show_steps(ctl: Controller, steps: object, outcomes: Outcomes, action: str) -> None:
    """Each stop and start a roll, an update or a scale made, as restart shows them."""
    assert isinstance(steps, list)
    for step in steps:
        group, name = str(step["group"]), str(step["name"])
        code, verb = int(step["status"]), str(step["action"])
        if verb == "start":
            text, message = start_outcome(group, name, code)
        elif verb == "stop":
            text, message = signal_outcome(group, name, code, str(step["description"]), "stopped")
        else:
            text, message = f"{make_namespec(group, name)}: removed", "removed"
        outcomes.add(text, action, make_namespec(group, name), code, message)
        ctl.record_fault(code)


def failure_line(name: str, result: dict[str, object]) -> str:
    """What a roll or an update that stopped at a process says about it."""
    text = f"ERROR: {name}: stopped at {result['failed']}"
    if result.get("reason"):
        text += f" ({result['reason']})"
    untouched = result.get("untouched") or []
    assert isinstance(untouched, list)
    if untouched:
        text += "; left as they were: " + ", ".join(str(n) for n in untouched)
    return text


def rolling_restart(
    ctl: Controller, names: list[str], batch: int, pause: float, outcomes: Outcomes
) -> bool:
    """One roll per name, in order; the first that fails leaves the next names alone.
    False when the daemon is not vigil's (nothing was done)."""
    for index, name in enumerate(names):
        try:
            result = ctl.client.call("vigil.restartRolling", name, batch, pause)
        except Fault as fault:
            if fault.code == Faults.UNKNOWN_METHOD:
                ctl.output(not_vigil("restart --rolling", "restartRolling"))
                ctl.exit_status = InitExit.UNIMPLEMENTED_FEATURE
                return False
            reason = "no such process" if fault.code == Faults.BAD_NAME else fault.text
            outcomes.add(f"{name}: ERROR ({reason})", "restart", name, fault.code, reason)
            ctl.record_fault(fault.code)
            continue
        assert isinstance(result, dict)
        show_steps(ctl, result["steps"], outcomes, "restart")
        if not result["done"]:
            left = [str(n) for n in result["untouched"]] + names[index + 1 :]
            result = {**result, "untouched": left}
            line = failure_line(name, result)
            outcomes.add(line, "restart", str(result["failed"]), Faults.FAILED, line[7:])
            ctl.exit_status = ctl.exit_status or InitExit.GENERIC
            break
    return True


class ScaleAction(Action):
    name = "scale"
    listed = False
    completes = COMPLETE_GROUPS
    speaks_json = True
    help_lines = (
        "scale <gname> <n>\tRun n instances of a numprocs program: new ones started,",
        "\t\t\tthose above n stopped (highest first); the others untouched",
    )
    more_help_lines = (
        "scale --json <gname> <n>",
        "\t\t\tWith --json: a JSON array of one object per result with the keys",
        "\t\t\tname, action, status (SUCCESS or the fault's name), code, message",
        "\t\t\tThe number lasts until the next update, which restores the file's.",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        if len(words) != 2 or not words[1].isdigit():
            ctl.output("Error: scale requires a group name and a number of processes")
            ctl.exit_status = InitExit.INVALID_ARGS
            self.show_help(ctl)
            return False
        if not ctl.upcheck():
            return False
        group, count = words[0], int(words[1])
        outcomes = Outcomes(ctl, as_json)
        try:
            result = ctl.client.call("vigil.scaleProcessGroup", group, count)
        except Fault as fault:
            if fault.code == Faults.UNKNOWN_METHOD:
                ctl.output(not_vigil("scale", "scaleProcessGroup"))
                ctl.exit_status = InitExit.UNIMPLEMENTED_FEATURE
                return False
            reason = "no such group" if fault.code == Faults.BAD_NAME else fault.text
            outcomes.add(f"{group}: ERROR ({reason})", self.name, group, fault.code, reason)
            ctl.exit_status = InitExit.GENERIC
            outcomes.finish()
            return False
        assert isinstance(result, dict)
        show_steps(ctl, result["steps"], outcomes, self.name)
        if result["done"]:
            message = f"scaled to {count}"
            outcomes.add(f"{group}: {message}", self.name, group, Faults.SUCCESS, message)
        else:
            line = f"ERROR: {group}: scaling stopped at {result['failed']}"
            outcomes.add(line, self.name, group, Faults.FAILED, line[7:])
            ctl.exit_status = ctl.exit_status or InitExit.GENERIC
        outcomes.finish()
        return False
