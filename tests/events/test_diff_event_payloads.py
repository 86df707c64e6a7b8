"""Every kind of event rendered by vigil's typed events and by Supervisor 4.3.0's own event
classes from the same values: the type names and payloads must be the same text, and the type
hierarchy the same tree. The daemon-level differential tests cover what reaches a listener; this
covers the corners a scenario rarely reaches (every state pair, undecodable output)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from typing import Any

from tests.support import reference_bin
from vigil.core.events import (
    Event,
    ProcessCommunication,
    ProcessGroupChanged,
    ProcessLogged,
    ProcessStateChanged,
    RemoteCommunication,
    SupervisorStateChanged,
    Tick,
)
from vigil.core.states import ProcessState
from vigil.event_types import EVENT_TYPES, SUPERVISOR_ROOT, lineage

# Runs in Supervisor's environment: builds its events from the same cases, prints
# [type name, payload] for each, then every type with its parent.
REFERENCE = textwrap.dedent(
    """
    import json, sys
    from types import SimpleNamespace as NS
    from supervisor import events
    from supervisor.states import ProcessStates

    def process(case):
        group = NS(config=NS(name=case["group"]))
        return NS(config=NS(name=case["process"]), group=group, pid=case["pid"],
                  backoff=case["tries"])

    def build(case):
        kind, cls = case["kind"], getattr(events.EventTypes, case["name"])
        if kind == "state":
            old = getattr(ProcessStates, case["old"])
            return cls(process(case), old, case["expected"])
        if kind in ("log", "communication"):
            return cls(process(case), case["pid"], bytes.fromhex(case["data"]))
        if kind == "remote":
            return cls(case["type"], case["data"])
        if kind == "tick":
            return cls(case["when"], None)
        if kind == "group":
            return cls(case["group"])
        return cls()

    def parent(cls):
        for base in cls.__mro__[1:]:
            name = events.getEventNameByType(base)
            if name:
                return name
        return None

    rendered = []
    for case in json.load(sys.stdin):
        event = build(case)
        rendered.append([events.getEventNameByType(type(event)), event.payload()])
    names = [n for n in dir(events.EventTypes) if not n.startswith("_")]
    tree = {n: parent(getattr(events.EventTypes, n)) for n in names}
    print(json.dumps({"rendered": rendered, "tree": tree}))
    """
)

OUTPUTS = [b"hello\n", b"", b"\xff\xfe not utf-8", "h\u00e9llo \u2603\n".encode(), b"50% %s\n"]


def _cases() -> list[tuple[dict[str, Any], Event]]:
    cases: list[tuple[dict[str, Any], Event]] = []
    who = {"process": "web_1", "group": "web", "pid": 4242, "tries": 3}
    for n, (old, new) in enumerate((old, new) for old in ProcessState for new in ProcessState):
        expected = n % 2 == 0
        case = {**who, "kind": "state", "name": f"PROCESS_STATE_{new.name}", "old": old.name}
        # vigil's next attempt time must change nothing in Supervisor's payload
        attempt = 1_700_000_030.5 if n % 3 == 0 else None
        event = ProcessStateChanged("web_1", "web", old, new, 4242, 3, expected, 1.0, attempt)
        cases.append(({**case, "expected": expected}, event))
    for channel in ("stdout", "stderr"):
        for data in OUTPUTS:
            for kind, cls in (("log", ProcessLogged), ("communication", ProcessCommunication)):
                output = cls("web_1", "web", 4242, channel, data)
                cases.append(
                    ({**who, "kind": kind, "name": output.name, "data": data.hex()}, output)
                )
    for text in ("mydata", "two\nlines", "h\u00e9llo \u2603", ""):
        remote = RemoteCommunication("mytype", text)
        cases.append(
            ({"kind": "remote", "name": remote.name, "type": "mytype", "data": text}, remote)
        )
    for running in (True, False):
        state = SupervisorStateChanged(running)
        cases.append(({"kind": "supervisor", "name": state.name}, state))
    for period in (5, 60, 3600):
        tick = Tick(period, 1_700_002_800)
        cases.append(({"kind": "tick", "name": tick.name, "when": tick.when}, tick))
    for added in (True, False):
        change = ProcessGroupChanged("web", added)
        cases.append(({"kind": "group", "name": change.name, "group": "web"}, change))
    return cases


def _reference(cases: list[dict[str, Any]]) -> dict[str, Any]:
    done = subprocess.run(
        [reference_bin("python"), "-c", REFERENCE],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_names_payloads_and_hierarchy_match_supervisors_event_classes() -> None:
    cases = _cases()
    reference = _reference([case for case, _ in cases])
    ours = [[event.name, event.payload()] for _, event in cases]
    assert ours == reference["rendered"]
    supervisors = {
        name: row.parent for name, row in EVENT_TYPES.items() if SUPERVISOR_ROOT in lineage(name)
    }
    assert supervisors == reference["tree"]
