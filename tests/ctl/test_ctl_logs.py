"""tail, maintail, clear and fg: Supervisor 4.3.0's supervisorctl and vigil's against twin
daemons; ``tail -f`` and ``maintail -f`` followed until Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ctl.harness import (
    DEADLINE,
    Result,
    TestDaemon,
    Twins,
    ctl_command,
    ctl_environment,
    default_sigint,
    difference,
    normalise,
    wait_for_text,
)
from tests.ctl.programs import LOG_PROGRAMS, LOGS_SETTLED


@pytest.fixture(scope="module")
def twins(daemon_kind: str) -> Iterator[Twins]:
    pair = Twins(daemon_kind, LOG_PROGRAMS)
    try:
        pair.start()
        pair.wait_states(LOGS_SETTLED)
        pair.each(lambda daemon: wait_for_text(_stderr_log(daemon), "hello err"))
        yield pair
    finally:
        pair.stop()


def _stderr_log(daemon: TestDaemon) -> Path:
    info = daemon.rpc().supervisor.getProcessInfo("echoer")
    return Path(info["stderr_logfile"])


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("tail echoer", 0),
        ("tail echoer stderr", 0),
        ("tail -5 echoer", 0),
        ("tail -5 echoer STDERR", 0),
        ("tail nosuch", 1),
        ("tail echoer foo", 1),  # bad channel
        ("tail nolog", 1),  # no log file
        ("tail", 1),
        ("tail -f", 1),
        ("tail -x echoer", 1),
        ("tail a b c d", 1),
        ("maintail -f x", 1),
        ("maintail x", 1),
        ("maintail -x", 1),
        ("fg", 1),
        ("fg a b", 1),
        ("fg nosuch", 1),
        ("fg nolog", 1),  # not running
        ("clear nosuch", 1),
        ("clear sleeper", 0),  # (echoer's logs must stay for the other tests)
    ],
)
def test_exit_status(twins: Twins, line: str, status: int) -> None:
    twins.check(*line.split(), status=status)


def test_maintail_prints_the_end_of_the_main_log(twins: Twins) -> None:
    theirs, ours = twins.run("maintail", "-300")
    assert (ours.status, ours.stderr) == (theirs.status, theirs.stderr) == (0, "")
    # The two main logs hold the same kind of lines, not the same bytes: compare the shape.
    # (at most 300 bytes plus newlines; a pid cut at the start grows when normalised to <PID>)
    assert ours.stdout.endswith("\n") and len(ours.stdout) <= 302 + len("<PID>")
    assert "INFO" in ours.stdout


def _follow(daemon: TestDaemon, kind: str, args: list[str], expected: str) -> Result:
    """Run ``supervisorctl <args>`` until ``expected`` shows, then press Ctrl-C."""
    with tempfile.TemporaryDirectory() as scratch:
        out_path, err_path = Path(scratch) / "out", Path(scratch) / "err"
        with out_path.open("w") as out, err_path.open("w") as err:
            proc = subprocess.Popen(
                [*ctl_command(kind), "-c", str(daemon.conf), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=ctl_environment(),
                preexec_fn=default_sigint,
            )
            try:
                wait_for_text(out_path, expected)
                proc.send_signal(signal.SIGINT)
                status = proc.wait(DEADLINE)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        paths = [(str(daemon.dir), "<DIR>")]
        return Result(
            normalise(out_path.read_text(), paths=paths),
            normalise(err_path.read_text(), paths=paths),
            status,
        )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["tail", "-f", "echoer"], "hello out\n"),
        (["tail", "-f", "echoer", "stderr"], "hello err\n"),
    ],
)
def test_tail_follow_until_ctrl_c(twins: Twins, args: list[str], expected: str) -> None:
    theirs = _follow(twins.reference, "supervisor", args, expected)
    ours = _follow(twins.ours, "vigil", args, expected)
    assert ours == theirs, difference(args, theirs, ours)
    assert ours.stdout.startswith("==> Press Ctrl-C to exit <==\n")
    assert ours.stdout.endswith(expected + "\n")
    assert ours.status == 0


def test_maintail_follow_until_ctrl_c(twins: Twins) -> None:
    for kind, daemon in (("supervisor", twins.reference), ("vigil", twins.ours)):
        result = _follow(daemon, kind, ["maintail", "-f"], " INFO ")
        assert result.stdout.startswith("==> Press Ctrl-C to exit <==\n"), (kind, result)
        assert (result.stderr, result.status) == ("", 0), (kind, result)


def test_tail_follow_of_unknown_process_reports_on_stderr(twins: Twins) -> None:
    result = twins.check("tail", "-f", "nosuch", status=0)
    assert result.stderr.endswith("/logtail/nosuch/stdout Cannot read, status code 404\n")
