"""``[supervisord] update_in_place = true`` against a daemonized daemon with real processes:
every option a running process can take is applied by ``update`` without a restart (the pid
stays) and takes effect; every option that changes how the child was started restarts it.
``reread`` and GET /api/v1/config/diff say which is which beforehand."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Iterable
from pathlib import Path

from tests.api.client import call
from tests.ctl.harness import run_ctl
from tests.daemon.daemonized import Started, config, start_daemonized
from tests.support import unix_proxy, wait_until

# Prints the name of the signal that ends it (TERM, INT, HUP) and exits 0; exits 3 on USR1.
SIGNALS = textwrap.dedent(
    """
    import signal, sys
    def ended(number, frame):
        print("got " + signal.Signals(number).name, flush=True)
        sys.exit(0)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, ended)
    signal.signal(signal.SIGUSR1, lambda number, frame: sys.exit(3))
    print("up", flush=True)
    while True:
        signal.pause()
    """
)
# Echoes its stdin to its stdout.
ECHO = "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line)\n"
# Ignores SIGTERM: only SIGKILL, stopwaitsecs after the stop signal, ends it.
STUBBORN = (
    "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\n"
    "while True: signal.pause()\n"
)

# (before, after) of each program's changing lines
IN_PLACE = {
    "auto": ("autorestart=true", "autorestart=false"),
    "codes": ("exitcodes=0", "exitcodes=0,3"),
    "sig": ("stopsignal=TERM", "stopsignal=INT"),
    "patient": ("stopwaitsecs=600", "stopwaitsecs=1"),
    "retry": (
        "startsecs=0\nstartretries=3",
        "startsecs=30\nstartretries=-1\nbackoff=fixed\nbackoff_delay=500",
    ),
    "health": ("healthcheck_interval=1000", "healthcheck_interval=0.2"),
    "rotation": (
        "stdout_logfile_maxbytes=1MB\nstdout_logfile_backups=2",
        "stdout_logfile_maxbytes=100\nstdout_logfile_backups=2",
    ),
}
COMMANDS = {
    "auto": "python3 {tmp}/signals.py",
    "codes": "python3 {tmp}/signals.py",
    "sig": "python3 {tmp}/signals.py",
    "patient": "python3 {tmp}/stubborn.py",
    "retry": "sh -c 'test -e {tmp}/ok && exec sleep 1000; exit 1'",
    "health": "sleep 1000",
    "rotation": "python3 -u {tmp}/echo.py",
}
RESTARTING = {
    "command": ("command=sleep 1000", "command=sleep 1001"),
    "environment": ("environment=A=1", "environment=A=2"),
    "directory": ("directory=/", "directory={tmp}"),
    "user": ("user=root", "user=nobody"),
    "umask": ("umask=022", "umask=077"),
    "redirect": ("redirect_stderr=false", "redirect_stderr=true"),
    "logfile": ("stdout_logfile={tmp}/a.log", "stdout_logfile={tmp}/b.log"),
}


EXTRA = {
    "health": "healthcheck=exec:true",
    **{
        name: f"stdout_logfile={{tmp}}/{name}.log"
        for name in ("auto", "codes", "sig", "patient", "rotation")
    },
}


def _write(
    tmp: Path, programs: dict[str, str], after: bool, table: dict[str, tuple[str, str]]
) -> Path:
    """The configuration with each program's lines of `table`, before or after the change."""
    body = f"[supervisorctl]\nserverurl=unix://{tmp}/s.sock\n"
    for name, command in programs.items():
        lines = [f"[program:{name}]", table[name][after], EXTRA.get(name, "")]
        if command:
            lines.append(f"command={command}")
        if "startsecs" not in table[name][after]:
            lines.append("startsecs=0")
        body += "\n".join(lines).format(tmp=tmp) + "\n"
    conf = config(tmp, body)
    conf.write_text(
        conf.read_text().replace("loglevel=debug", "loglevel=debug\nupdate_in_place=true")
    )
    return conf


def _infos(sock: Path) -> dict[str, dict[str, object]]:
    return {i["name"]: i for i in unix_proxy(sock).supervisor.getAllProcessInfo()}


def _all_running(sock: Path, names: Iterable[str]) -> dict[str, int]:
    """The pids once every one of `names` is RUNNING."""

    def pids() -> dict[str, int] | None:
        infos = _infos(sock)
        if any(infos[name]["statename"] != "RUNNING" for name in names):
            return None
        return {name: int(str(infos[name]["pid"])) for name in names}

    found: dict[str, int] = wait_until(pids, what="every program RUNNING")
    return found


def _state(sock: Path, name: str) -> str:
    return str(unix_proxy(sock).supervisor.getProcessInfo(name)["statename"])


def test_in_place_options_keep_the_pid_and_take_effect(tmp_path: Path, cleanup: Started) -> None:
    (tmp_path / "signals.py").write_text(SIGNALS)
    (tmp_path / "stubborn.py").write_text(STUBBORN)
    (tmp_path / "echo.py").write_text(ECHO)
    (tmp_path / "ok").write_text("")
    conf = _write(tmp_path, COMMANDS, False, IN_PLACE)
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    before = _all_running(sock, COMMANDS)
    for name in ("auto", "codes", "sig", "patient"):  # their signal handlers are in place
        log = tmp_path / f"{name}.log"
        wait_until(lambda log=log: log.exists() and "up" in log.read_text(), what=f"{log} up")
    assert call(sock, "GET", "/processes/health").json()["health"]["status"] == "starting"

    _write(tmp_path, COMMANDS, True, IN_PLACE)
    diff = call(sock, "GET", "/config/diff").json()
    assert diff["update_in_place"] is True
    by_group = {g["group"]: g for g in diff["groups"]}
    assert set(by_group) == set(COMMANDS)
    assert by_group["retry"]["how"] == "in place"
    assert by_group["retry"]["in_place"] == ["retry"] and by_group["retry"]["restarted"] == []
    assert by_group["retry"]["options"]["retry"] == {
        "in_place": ["startsecs", "startretries", "backoff", "backoff_delay"],
        "restart": [],
    }
    reread = run_ctl("vigil", ["-c", str(conf), "reread"])
    assert reread.stdout.splitlines() == [f"{n}: changed (in place)" for n in sorted(COMMANDS)]
    update = run_ctl("vigil", ["-c", str(conf), "update"])
    assert update.status == 0, update
    assert sorted(update.stdout.splitlines()) == sorted(
        f"{n}: updated process group (in place)" for n in COMMANDS
    )
    assert _all_running(sock, COMMANDS) == before  # nothing restarted

    # autorestart=false: killed, it stays EXITED (with true it was STARTING again at once)
    os.kill(before["auto"], signal.SIGKILL)
    wait_until(lambda: _state(sock, "auto") == "EXITED", what="auto EXITED")
    # exitcodes=0,3: exit 3 is expected, so autorestart=unexpected leaves it EXITED
    os.kill(before["codes"], signal.SIGUSR1)
    wait_until(lambda: _state(sock, "codes") == "EXITED", what="codes EXITED")
    assert unix_proxy(sock).supervisor.getProcessInfo("codes")["exitstatus"] == 3
    # stopsignal=INT: the program says which signal stopped it
    assert unix_proxy(sock).supervisor.stopProcess("sig") is True
    assert "got SIGINT" in (tmp_path / "sig.log").read_text()
    # stopwaitsecs=1 (was 600): it ignores SIGTERM, SIGKILL ends it
    began = time.monotonic()
    assert unix_proxy(sock).supervisor.stopProcess("patient") is True
    assert time.monotonic() - began < 300
    assert "killing 'patient'" in (tmp_path / "d.log").read_text()
    # startsecs=30, startretries=-1, backoff=fixed, backoff_delay=500: the failed start waits
    # 500 s, with no end to the retries
    (tmp_path / "ok").unlink()
    os.kill(before["retry"], signal.SIGKILL)
    wait_until(lambda: _state(sock, "retry") == "BACKOFF", what="retry BACKOFF")
    document = call(sock, "GET", "/processes/retry").json()
    assert document["next_attempt_at"] - time.time() > 400
    assert "startretries = -1" in unix_proxy(sock).supervisor.getProcessInfo("retry")["description"]
    # healthcheck_interval=0.2 (was 1000): checked, and healthy, without a restart
    wait_until(
        lambda: call(sock, "GET", "/processes/health").json()["health"]["status"] == "healthy",
        what="health checked at its new interval",
    )
    assert unix_proxy(sock).supervisor.getProcessInfo("health")["pid"] == before["health"]
    # stdout_logfile_maxbytes=100 (was 1MB): 150 bytes of output rotate the log
    line = "x" * 49 + "\n"
    for _ in range(3):
        unix_proxy(sock).supervisor.sendProcessStdin("rotation", line)
    backup = tmp_path / "rotation.log.1"
    wait_until(backup.exists, what="the log rotated at its new size")
    assert unix_proxy(sock).supervisor.getProcessInfo("rotation")["pid"] == before["rotation"]
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def test_restarting_options_restart_even_with_update_in_place(
    tmp_path: Path, cleanup: Started
) -> None:
    programs = {name: "sleep 1000" for name in RESTARTING}
    programs["command"] = ""  # the command is the changing line
    table = RESTARTING
    conf = _write(tmp_path, programs, False, table)
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    before = _all_running(sock, programs)

    _write(tmp_path, programs, True, table)
    diff = call(sock, "GET", "/config/diff").json()
    for group in diff["groups"]:
        assert group["in_place"] == [] and group["restarted"] == [group["group"]], group
    reread = run_ctl("vigil", ["-c", str(conf), "reread"])
    assert reread.stdout.splitlines() == [f"{n}: changed (restart)" for n in sorted(programs)]
    update = run_ctl("vigil", ["-c", str(conf), "update"])
    assert update.status == 0, update
    after = _all_running(sock, programs)
    assert all(after[n] != before[n] for n in programs), (before, after)
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def test_reread_is_supervisors_without_update_in_place(tmp_path: Path, cleanup: Started) -> None:
    conf = config(
        tmp_path,
        f"[supervisorctl]\nserverurl=unix://{tmp_path}/s.sock\n"
        "[program:w]\ncommand=sleep 1000\nstartsecs=0\nautorestart=true\n",
    )
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    pid = _all_running(sock, ["w"])["w"]
    conf.write_text(conf.read_text().replace("autorestart=true", "autorestart=false"))
    assert run_ctl("vigil", ["-c", str(conf), "reread"]).stdout == "w: changed\n"
    diff = call(sock, "GET", "/config/diff").json()
    assert diff["update_in_place"] is False
    assert diff["groups"][0]["options"]["w"] == {"in_place": [], "restart": ["autorestart"]}
    update = run_ctl("vigil", ["-c", str(conf), "update"])
    assert update.stdout.splitlines() == ["w: stopped", "w: updated process group"], update
    assert _all_running(sock, ["w"])["w"] != pid  # Supervisor's: any change restarts
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def test_a_scaled_group_is_reconciled_and_its_changes_applied_in_place(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = config(
        tmp_path,
        f"[supervisorctl]\nserverurl=unix://{tmp_path}/s.sock\n"
        "[program:w]\ncommand=sleep 1000\nnumprocs=2\nprocess_name=w_%(process_num)d\n"
        "startsecs=0\nautorestart=true\n",
    )
    conf.write_text(
        conf.read_text().replace("loglevel=debug", "loglevel=debug\nupdate_in_place=true")
    )
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    before = _all_running(sock, ["w_0", "w_1"])
    assert call(sock, "POST", "/groups/w/scale", {"numprocs": 3}).status == 200
    conf.write_text(conf.read_text().replace("autorestart=true", "autorestart=false"))
    reread = run_ctl("vigil", ["-c", str(conf), "reread"])
    assert reread.stdout == "w: changed (in place: w:w_0, w:w_1; remove: w:w_2)\n"
    update = run_ctl("vigil", ["-c", str(conf), "update"])
    assert update.stdout.splitlines() == [
        "w:w_2: stopped",
        "w:w_2: removed",
        "w: updated process group (reconcile)",
    ], update
    assert _all_running(sock, ["w_0", "w_1"]) == before
    assert sorted(_infos(sock)) == ["w_0", "w_1"]
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def test_vigil_only_options_apply_in_place_without_the_setting(
    tmp_path: Path, cleanup: Started
) -> None:
    """Supervisor has no restart policy keys, hooks or health checks: a change of only those
    keeps the process running even with update_in_place off; one Supervisor option among
    them restarts it, as Supervisor would."""
    conf = config(
        tmp_path,
        f"[supervisorctl]\nserverurl=unix://{tmp_path}/s.sock\n"
        "[program:w]\ncommand=sleep 1000\nstartsecs=0\nbackoff_delay=1\nfatal_retry=0\n",
    )
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    pid = _all_running(sock, ["w"])["w"]
    conf.write_text(
        conf.read_text().replace(
            "backoff_delay=1\nfatal_retry=0", "backoff_delay=5\nfatal_retry=60"
        )
    )
    assert run_ctl("vigil", ["-c", str(conf), "reread"]).stdout == "w: changed\n"
    group = call(sock, "GET", "/config/diff").json()["groups"][0]
    assert (group["how"], group["in_place"], group["restarted"]) == ("in place", ["w"], [])
    update = run_ctl("vigil", ["-c", str(conf), "update"])
    assert update.stdout.splitlines() == ["w: updated process group (in place)"], update
    assert _all_running(sock, ["w"])["w"] == pid
    conf.write_text(conf.read_text().replace("backoff_delay=5", "backoff_delay=2\nstartretries=9"))
    update = run_ctl("vigil", ["-c", str(conf), "update"])
    assert update.stdout.splitlines() == ["w: stopped", "w: updated process group"], update
    assert _all_running(sock, ["w"])["w"] != pid
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")
