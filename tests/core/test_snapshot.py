"""ProcessSnapshot.description against Supervisor 4.3.0's own formula, at any time."""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.core import snapshot as snapshot_module
from vigil.core.snapshot import ProcessSnapshot
from vigil.core.states import ProcessState

INT32_MAX = 2**31 - 1


def capped_int(value: float) -> int:
    return max(-INT32_MAX - 1, min(INT32_MAX, int(value)))


def supervisor_description(info: dict[str, object]) -> str:
    """rpcinterface.SupervisorNamespaceRPCInterface._interpretProcessInfo, 4.3.0."""
    state = info["state"]
    if state == ProcessState.RUNNING:
        start = info["start"]
        now = info["now"]
        start_dt = datetime.datetime(*time.gmtime(start)[:6])  # type: ignore[misc]
        now_dt = datetime.datetime(*time.gmtime(now)[:6])  # type: ignore[misc]
        uptime = now_dt - start_dt
        if uptime.total_seconds() < 0:  # system time set back
            uptime = datetime.timedelta(0)
        return f"pid {info['pid']}, uptime {uptime}"
    if state in (ProcessState.FATAL, ProcessState.BACKOFF):
        return str(info["spawnerr"]) or f'unknown error (try "tail {info["name"]}")'
    if state in (ProcessState.STOPPED, ProcessState.EXITED):
        if info["start"]:
            stop_dt = datetime.datetime(*time.localtime(info["stop"])[:7])  # type: ignore[misc]
            return stop_dt.strftime("%b %d %I:%M %p")
        return "Not started"
    return ""


# 1901 to 2038 and beyond on both sides, where Supervisor's 32-bit capping shows
times = st.one_of(
    st.floats(-(2**31) - 10**6, 2**31 + 10**6, allow_nan=False),
    st.sampled_from([0.0, 0.5, 1_700_000_000.0, float(INT32_MAX), float(INT32_MAX + 1)]),
)


@given(
    state=st.sampled_from(list(ProcessState)),
    started=times,
    stopped=times,
    now=times,
    spawn_error=st.sampled_from([None, "", "Bad exit code 3"]),
)
def test_description_is_supervisors(
    state: ProcessState, started: float, stopped: float, now: float, spawn_error: str | None
) -> None:
    snap = ProcessSnapshot(
        "web", "g", state, 42, started, stopped, now, None, spawn_error, 0, None,
        None, None, None, None,
    )  # fmt: skip
    info = {
        "name": "web",
        "state": state,
        "pid": 42,
        "start": capped_int(started),
        "stop": capped_int(stopped),
        "now": capped_int(now),
        "spawnerr": spawn_error or "",
    }
    assert snap.description == supervisor_description(info)


def test_log_errors_follow_supervisors_text() -> None:
    snap = ProcessSnapshot(
        "web", "g", ProcessState.FATAL, 0, 1.0, 2.0, 3.0, None, "boom", 0, None,
        "/l/out", "/l/err", "/l/out: EIO", "/l/err: ENOSPC",
    )  # fmt: skip
    assert snap.description == "boom (stdout log: /l/out: EIO) (stderr log: /l/err: ENOSPC)"


@pytest.fixture(params=["America/New_York", "Australia/Lord_Howe"])
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A zone with summer time (Lord Howe moves by half an hour) for the local-time text."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    snapshot_module._local_minute.cache_clear()  # the daemon's zone is fixed; a test's is not
    yield request.param
    monkeypatch.undo()
    time.tzset()
    snapshot_module._local_minute.cache_clear()


def test_stopped_text_is_supervisors_around_summer_time(local_zone: str) -> None:
    # the ends of summer time in Lord Howe (2024-04-07) and New York (2024-11-03), and the
    # 15 hours either side of each, half an hour at a time
    for change in (1_712_419_200, 1_730_592_000):
        for stopped in range(change - 15 * 3600 + 7, change + 15 * 3600, 1800):
            snap = ProcessSnapshot(
                "web", "g", ProcessState.EXITED, 0, 1.0, stopped, 0.0, 0, None, 0, None,
                None, None, None, None,
            )  # fmt: skip
            info = {"state": ProcessState.EXITED, "start": 1, "stop": stopped}
            assert snap.description == supervisor_description(info), stopped


def test_a_running_hook_and_stopping_follow_supervisors_text() -> None:
    base = ProcessSnapshot(
        "web", "g", ProcessState.STARTING, 0, 1.0, 0.0, 3.0, None, None, 0, None,
        None, None, None, None,
    )  # fmt: skip
    assert dataclasses.replace(base, hook="pre_start").description == "pre_start running"
    running = dataclasses.replace(
        base, state=ProcessState.RUNNING, pid=42, notify_stopping=True, notify_status="bye"
    )
    assert running.description == "pid 42, uptime 0:00:02; stopping (STOPPING=1); status: bye"
    stopped = dataclasses.replace(base, state=ProcessState.STOPPED, stopped_at=2.0)
    assert dataclasses.replace(stopped, hook="post_stop").description == (
        stopped.description + "; post_stop running"
    )
