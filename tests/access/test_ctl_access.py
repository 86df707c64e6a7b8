"""supervisorctl against the access features of a daemonized daemon: over https:// with the
[supervisorctl] cafile, and with a read-only account (it reads; an action is refused with a
line saying why, not a traceback)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.access.test_tls import make_certificate, tls_section
from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import PY, unix_proxy, wait_until


def ctl(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "vigil.ctl.main", "-c", str(conf), *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_supervisorctl_over_https_and_as_a_reader(tmp_path: Path, cleanup: Started) -> None:
    cert, key = make_certificate(tmp_path)
    port = free_port()
    conf = config(
        tmp_path,
        tls_section(port, cert, key)
        + "readonly_username=viewer\nreadonly_password=look\n"
        + "\n[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n",
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "sleeper"))
    admin = tmp_path / "admin.conf"
    admin.write_text(
        f"[supervisorctl]\nserverurl=https://127.0.0.1:{port}\nusername=admin\n"
        f"password=s3cret\ncafile={cert}\n"
    )
    status = ctl(admin, "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("sleeper") and "RUNNING" in status.stdout
    untrusted = tmp_path / "untrusted.conf"
    untrusted.write_text(admin.read_text().replace(f"cafile={cert}\n", ""))
    refused = ctl(untrusted, "status")
    assert (
        refused.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in refused.stdout + refused.stderr
    )
    reader = tmp_path / "reader.conf"
    reader.write_text(
        admin.read_text().replace(
            "username=admin\npassword=s3cret", "username=viewer\npassword=look"
        )
    )
    assert "RUNNING" in ctl(reader, "status").stdout
    stop = ctl(reader, "stop", "sleeper")
    assert "sleeper: ERROR (not allowed: this account may only read)" in stop.stdout
    assert "Traceback" not in stop.stdout + stop.stderr
    assert "RUNNING" in ctl(admin, "status").stdout
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: not (tmp_path / "s.sock").exists(), what="the daemon's exit")
