"""What the daemon loads: nothing before its first spawn that spawning does not need (the
HTTP application, the RPC namespaces, psutil, the config's error-only helpers), and no OpenSSL
at any time (it speaks no TLS; its one digest, SHA-1 for ``{SHA}`` passwords, is Python's own).

Checked on a daemonized daemon started as the ``supervisord`` entry point starts it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import textwrap
import xmlrpc.client
from pathlib import Path

from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, running_pid
from tests.daemon.test_daemonize import gone
from tests.support import PY, unix_proxy, wait_until

# Loaded only once the programs are spawned, or only by configs (or errors) that need them.
NOT_BEFORE_THE_FIRST_SPAWN = (
    "httptools",
    "vigil.http.server",
    "vigil.http.rpc_handler",
    "vigil.http.web",
    "vigil.http.logtail",
    "vigil.services.rpc.registry",
    "vigil.services.rpc.supervisor_ns",
    "vigil.services.rpc.system_ns",
    "vigil.config.diff",
    "vigil.services.logread",
    "xmlrpc.client",
    "xml.etree.ElementTree",
    "psutil",
    "difflib",
    "platform",
    "ctypes.util",
)
NEVER = ("ssl", "_ssl", "_hashlib")

# Runs the entry point as `supervisord` does, with an audit hook that writes down the modules
# loaded (with a module object: a blocked import leaves None) at every fork or spawn: the
# detaching one and the spawn of the one program. The HTTP application loads after that spawn.
LAUNCHER = textwrap.dedent(
    """
    import json, sys

    records, conf = sys.argv[1:]

    def hook(event, args):
        if event in ("os.fork", "os.posix_spawn", "vigil.spawn"):
            loaded = sorted(name for name, module in sys.modules.items() if module is not None)
            with open(records, "a") as out:
                out.write(json.dumps(loaded) + "\\n")
        elif event == "subprocess.Popen":
            with open(records + ".commands", "a") as out:
                out.write(json.dumps([str(arg) for arg in args[1]]) + "\\n")

    sys.addaudithook(hook)
    sys.argv = ["supervisord", "-c", conf]
    from vigil.__main__ import main

    main()
    """
)


def test_the_first_spawn_comes_before_the_http_application_and_without_openssl(
    tmp_path: Path, cleanup: Started
) -> None:
    port = free_port()
    secret = hashlib.sha1(b"s3cret").hexdigest()
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        textwrap.dedent(
            f"""
            [unix_http_server]
            file={tmp_path}/s.sock

            [inet_http_server]
            port=127.0.0.1:{port}
            username=user
            password={{SHA}}{secret}

            [supervisord]
            logfile={tmp_path}/d.log
            pidfile={tmp_path}/d.pid
            childlogdir={tmp_path}

            [program:sleeper]
            command=sleep 777
            startsecs=0
            """
        )
    )
    records = tmp_path / "forks.jsonl"
    launched = subprocess.run(
        [PY, "-c", LAUNCHER, str(records), str(conf)], capture_output=True, text=True, timeout=60
    )
    assert launched.returncode == 0, launched.stderr
    daemon = int(wait_until(lambda: _text(tmp_path / "d.pid").strip(), what="the pidfile"))
    cleanup.append(daemon)
    cleanup.append(running_pid(conf, "sleeper"))
    # {SHA} credentials are checked with Python's SHA-1: the HTTP application is up and
    # answers over TCP with them
    tcp = xmlrpc.client.ServerProxy(f"http://user:s3cret@127.0.0.1:{port}/RPC2")
    assert tcp.supervisor.getState()["statename"] == "RUNNING"

    forks = [json.loads(line) for line in records.read_text().splitlines()]
    assert len(forks) >= 2  # detaching, then the program
    for loaded in forks:
        early = sorted(
            name
            for name in loaded
            if any(
                name == banned or name.startswith(banned + ".")
                for banned in NOT_BEFORE_THE_FIRST_SPAWN + NEVER
            )
        )
        assert early == []
    # nor did it run any command of its own (finding libc's name with ldconfig, say): the
    # program is started by fork and exec, not subprocess
    assert _text(Path(f"{records}.commands")) == ""
    maps = Path(f"/proc/{daemon}/maps").read_text()
    assert "libssl" not in maps
    assert "libcrypto" not in maps
    assert "_psutil" not in maps
    assert "aiohttp" not in maps  # the HTTP server is vigil's own on llhttp, not aiohttp's

    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: gone(daemon), what="daemon exit")


def _text(path: Path) -> str:
    return path.read_text() if path.exists() else ""
