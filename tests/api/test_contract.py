"""The OpenAPI document is the contract: schemathesis generates requests from it (valid ones
and invalid ones) against a daemonized daemon, and every answer must be documented, match its
schema, and never be a 5xx. Only ``positive_data_acceptance`` is left out: a request can match
the schema and still be refused for what it means (a negative offset with a length, a signal
name that does not exist), as XML-RPC refuses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import unix_proxy, wait_until

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_every_answer_matches_the_openapi_document(tmp_path: Path, cleanup: Started) -> None:
    port = free_port()
    conf = config(
        tmp_path,
        f"""
        [inet_http_server]
        port=127.0.0.1:{port}

        [program:cat]
        command=cat
        startsecs=0

        [program:w]
        command=sleep 1000
        numprocs=2
        process_name=w_%(process_num)s
        startsecs=0
        """,
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "cat"))
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"http://127.0.0.1:{port}/api/v1/openapi.json",
            "--exclude-path-regex",
            # streams never end by themselves; a scale to thousands of real processes is
            # tested in tests/operations, not fuzzed
            "/events$|/stream$|/scale$",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "40",
            "--seed",
            "20261207",
            "--request-timeout",
            "30",
            "--warnings",
            "off",
        ],
        cwd=tmp_path,  # where schemathesis keeps its state
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    sock = tmp_path / "s.sock"
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")
