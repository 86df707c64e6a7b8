"""The daemon at rest costs nothing, and the bundled example runs and stops on Ctrl-C."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil

from tests.support import PY, ROOT, Daemon, unix_proxy, wait_until


def test_daemon_at_rest_with_many_programs_uses_no_cpu_and_sleeps(tmp_path: Path) -> None:
    body = """
        [supervisord]
        minfds=4096

        [program:w]
        command=sleep 1000
        numprocs=200
        process_name=w%(process_num)d
        startsecs=1
        stdout_logfile=NONE
        stderr_logfile=NONE
    """
    daemon = Daemon(tmp_path, body).start()
    try:
        wait_until(
            lambda: all(
                i["statename"] == "RUNNING" for i in daemon.rpc().supervisor.getAllProcessInfo()
            ),
            what="200 programs RUNNING",
        )
        proc = psutil.Process(daemon.proc.pid)  # type: ignore[union-attr]
        cpu_before = sum(proc.cpu_times()[:2])
        wakeups_before = proc.num_ctx_switches().voluntary
        time.sleep(3)  # measuring rest itself: nothing to wait for
        cpu = sum(proc.cpu_times()[:2]) - cpu_before
        wakeups = proc.num_ctx_switches().voluntary - wakeups_before
        assert cpu < 0.02, f"daemon used {cpu:.3f}s of CPU at rest"
        assert wakeups <= 3, f"daemon woke {wakeups} times at rest"
    finally:
        assert daemon.stop() == 0


def test_example_config_runs_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", examples, ignore=shutil.ignore_patterns("run"))
    conf = examples / "supervisord.conf"
    # the example also listens on 127.0.0.1:9001; a test must not depend on that port being free
    text = conf.read_text()
    assert "[inet_http_server]\nport=127.0.0.1:9001\n" in text
    conf.write_text(text.replace("[inet_http_server]\nport=127.0.0.1:9001\n", ""))
    (examples / "run").mkdir()
    proc = subprocess.Popen(
        [PY, "-m", "vigil", "-n", "-c", str(conf)],
        cwd=examples,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        sock = examples / "run" / "supervisor.sock"
        wait_until(sock.exists, what="the example's socket")
        expected = {"clock", "worker_00", "worker_01", "flaky"}

        def all_running() -> bool:
            infos = unix_proxy(sock).supervisor.getAllProcessInfo()
            return {i["name"] for i in infos if i["statename"] == "RUNNING"} == expected

        wait_until(all_running, what="every example program RUNNING")
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert b"received SIGINT indicating exit request" in output
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
