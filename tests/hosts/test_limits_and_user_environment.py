"""Daemonized: rlimit_*, nice and oom_score_adjust as the child sees them in /proc (on the
compiled vfork path and on the fork path), the HOME/USER/LOGNAME/SHELL of `user=` where the
environment does not set them, and a limit the kernel refuses as a spawn error that names it."""

from __future__ import annotations

import pwd
import re
import textwrap
from pathlib import Path

import pytest

from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import unix_proxy, wait_until

# the shell reads its own /proc entries: what the spawn set before exec
REPORT = (
    "cat /proc/$$/limits; echo nice=$(cut -d\\) -f2 /proc/$$/stat | cut -d' ' -f18);"
    " echo oom=$(cat /proc/$$/oom_score_adj); echo done; exec sleep 1000"
)
# Supervisor's LIMIT names in /proc/PID/limits, with what the config asks for
EXPECTED = {
    "Max open files": ("1000", "2000"),
    "Max processes": ("500", "600"),
    "Max core file size": ("unlimited", "unlimited"),
    "Max locked memory": ("65536", "131072"),
    "Max address space": ("unlimited", "unlimited"),
    "Max cpu time": ("3600", "3600"),
    "Max file size": ("1073741824", "1073741824"),
}
SETTINGS = """
rlimit_nofile=1000:2000
rlimit_nproc=500:600
rlimit_core=unlimited
rlimit_memlock=64KB:128KB
rlimit_as=unlimited
rlimit_cpu=3600
rlimit_fsize=1GB
"""
# directory= sends the spawn through os.fork(); without it the compiled vfork path runs
PATHS = {"vfork": "", "fork": "directory=/"}


def _limits(text: str) -> dict[str, tuple[str, str]]:
    found = {}
    for line in text.splitlines():
        match = re.match(r"(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)", line)
        if match:
            found[match.group(1)] = (match.group(2), match.group(3))
    return found


def _log_when_done(path: Path) -> str:
    return str(
        wait_until(
            lambda: path.exists() and "done\n" in path.read_text() and path.read_text(),
            what=f"{path.name} written",
        )
    )


@pytest.mark.parametrize("path", PATHS)
def test_the_child_runs_with_its_limits_nice_and_oom_score(
    tmp_path: Path, cleanup: Started, path: str
) -> None:
    conf = config(
        tmp_path,
        textwrap.dedent(f"""
        [program:limited]
        command=/bin/sh -c "{REPORT}"
        stdout_logfile={tmp_path}/limited.log
        startsecs=0
        nice=7
        oom_score_adjust=300
        {PATHS[path]}
        """)
        + SETTINGS,
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "limited"))
    text = _log_when_done(tmp_path / "limited.log")
    limits = _limits(text)
    for name, values in EXPECTED.items():
        assert limits[name] == values, (name, limits)
    assert "nice=7\n" in text and "oom=300\n" in text, text
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()


def test_a_user_gets_its_home_user_logname_and_shell_unless_set(
    tmp_path: Path, cleanup: Started
) -> None:
    nobody = pwd.getpwnam("nobody")
    show = 'echo \\"$HOME|$USER|$LOGNAME|$SHELL\\"; echo done; exec sleep 1000'
    conf = config(
        tmp_path,
        f"""
        [program:plain]
        command=/bin/sh -c "{show}"
        user=nobody
        stdout_logfile={tmp_path}/plain.log
        startsecs=0

        [program:own]
        command=/bin/sh -c "{show}"
        user=nobody
        environment=HOME="/srv/own",SHELL="/bin/own"
        stdout_logfile={tmp_path}/own.log
        startsecs=0
        """,
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "plain"))
    cleanup.append(running_pid(conf, "own"))
    plain = _log_when_done(tmp_path / "plain.log")
    name, home, shell = nobody.pw_name, nobody.pw_dir, nobody.pw_shell
    assert plain.splitlines()[0] == f"{home}|{name}|{name}|{shell}"
    own = _log_when_done(tmp_path / "own.log")
    assert own.splitlines()[0] == f"/srv/own|{name}|{name}|/bin/own"
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()


def test_a_lower_nice_value_is_set_before_the_user_drops_privileges(
    tmp_path: Path, cleanup: Started
) -> None:
    """Lowering the nice value below 0 needs root: the child sets it (and its limits) before
    it becomes nobody, who could not."""
    conf = config(
        tmp_path,
        f"""
        [program:raised]
        command=/bin/sh -c "{REPORT}"
        user=nobody
        stdout_logfile={tmp_path}/raised.log
        startsecs=0
        rlimit_nofile=1000:2000
        nice=-3
        """,
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "raised"))
    text = _log_when_done(tmp_path / "raised.log")
    assert _limits(text)["Max open files"] == ("1000", "2000"), text
    assert "nice=-3\n" in text, text
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()


@pytest.mark.parametrize("path", PATHS)
def test_a_limit_the_kernel_refuses_is_a_spawn_error_naming_it(
    tmp_path: Path, cleanup: Started, path: str
) -> None:
    """Open files beyond fs.nr_open are refused even to root (EPERM)."""
    nr_open = int(Path("/proc/sys/fs/nr_open").read_text())
    conf = config(
        tmp_path,
        f"""
        [program:refused]
        command=/bin/sh -c "exec sleep 1000"
        startsecs=0
        startretries=0
        rlimit_nofile={nr_open + 1}
        {PATHS[path]}

        [program:fine]
        command=/bin/sh -c "exec sleep 1000"
        startsecs=0
        """,
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "fine"))
    rpc = unix_proxy(tmp_path / "s.sock")
    info = wait_until(
        lambda: (i := rpc.supervisor.getProcessInfo("refused"))["statename"] == "FATAL" and i,
        what="refused FATAL",
    )
    assert info["spawnerr"] == "could not set rlimit_nofile: Operation not permitted", info
    assert rpc.supervisor.getProcessInfo("fine")["statename"] == "RUNNING"
    main_log = (tmp_path / "d.log").read_text()
    assert "could not set rlimit_nofile: Operation not permitted" in main_log
    rpc.supervisor.shutdown()


def test_hooks_and_checks_run_with_the_programs_limits(tmp_path: Path, cleanup: Started) -> None:
    """A pre_start hook (and so every command run as the program: post_stop, exec: probes)
    gets the program's limits and nice, as the program does."""
    out = tmp_path / "hook.txt"
    hook = f"/bin/sh -c 'ulimit -Sn > {out}; cut -d\\) -f2 /proc/$$/stat >> {out}'"
    conf = config(
        tmp_path,
        textwrap.dedent(f"""
        [program:hooked]
        command=sleep 1000
        startsecs=0
        rlimit_nofile=900:1800
        nice=5
        pre_start={hook}
        """),
    )
    cleanup.append(start_daemonized(conf))
    running_pid(conf, "hooked")
    report = (tmp_path / "hook.txt").read_text().split()
    assert report[0] == "900"
    assert report[1 + 16] == "5"  # field 19 of stat, the 17th after the command: nice
