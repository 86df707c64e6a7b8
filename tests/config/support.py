"""What the config tests share: the Supervisor reference interpreter, the environment the
corpus is parsed with, and vigil's model printed in the shape ``supervisor_dump.py`` prints."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from vigil.config.fcgi import FCGI_DEFAULT_BACKLOG
from vigil.config.model import AUTO, Config, CtlConfig, GroupConfig, PluginConfig, ProcessConfig

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
ROOT = HERE.parent.parent
SUPERVISOR_PYTHON = ROOT / ".venv-supervisor" / "bin" / "python"

ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": os.environ.get("HOME", "/root"),
    "VIGIL_TEST": "hello",
    "LOGLEVEL": "info",
    "INCLUDE_SUFFIX": "one",
    "TEST_USER": "nobody",
    "SPACED": "a b",
}


def run_supervisor(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Supervisor's parse of each case (see supervisor_dump.py), in one interpreter run."""
    output = subprocess.run(
        [str(SUPERVISOR_PYTHON), str(HERE / "supervisor_dump.py")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    results: list[dict[str, Any]] = json.loads(output)
    return results


# vigil's model in the shape supervisor_dump.py prints


def _logfile(value: object) -> object:
    return "AUTO" if value is AUTO else value


def _process(p: ProcessConfig) -> dict[str, Any]:
    return {
        "name": p.name,
        "command": p.command,
        "priority": p.priority,
        "autostart": p.autostart,
        "autorestart": p.autorestart.value,
        "startsecs": p.startsecs,
        "startretries": p.startretries,
        "exitcodes": list(p.exitcodes),
        "stopsignal": p.stopsignal,
        "stopwaitsecs": p.stopwaitsecs,
        "stopasgroup": p.stopasgroup,
        "killasgroup": p.killasgroup,
        "uid": p.uid,
        "redirect_stderr": p.redirect_stderr,
        "stdout_logfile": _logfile(p.stdout_logfile),
        "stdout_logfile_maxbytes": p.stdout_logfile_maxbytes,
        "stdout_logfile_backups": p.stdout_logfile_backups,
        "stdout_capture_maxbytes": p.stdout_capture_maxbytes,
        "stdout_events_enabled": p.stdout_events_enabled,
        "stdout_syslog": p.stdout_syslog,
        "stderr_logfile": _logfile(p.stderr_logfile),
        "stderr_logfile_maxbytes": p.stderr_logfile_maxbytes,
        "stderr_logfile_backups": p.stderr_logfile_backups,
        "stderr_capture_maxbytes": p.stderr_capture_maxbytes,
        "stderr_events_enabled": p.stderr_events_enabled,
        "stderr_syslog": p.stderr_syslog,
        "environment": [list(item) for item in p.environment],
        "directory": p.directory,
        "umask": p.umask,
        "serverurl": _logfile(p.serverurl),
    }


def _group(g: GroupConfig) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": g.name,
        "priority": g.priority,
        "kind": g.kind.value,
        "processes": [_process(p) for p in g.processes],
    }
    if g.kind.value == "eventlistener":
        result["events"] = list(g.events)
        result["buffer_size"] = g.buffer_size
        result["result_handler"] = g.result_handler
    if g.fcgi_socket is not None:
        socket = g.fcgi_socket
        unix = socket.url.startswith("unix://")
        result["fcgi_socket"] = {
            "url": socket.url,
            # Supervisor keeps None and passes socket.SOMAXCONN to listen()
            "backlog": None if socket.backlog == FCGI_DEFAULT_BACKLOG else socket.backlog,
            "owner": list(socket.owner) if socket.owner else None,
            "mode": socket.mode if unix else None,
        }
    return result


def _plugins(plugins: tuple[PluginConfig, ...]) -> list[dict[str, Any]]:
    return [
        {"name": p.name, "factory": p.factory, "kwargs": sorted(list(kv) for kv in p.kwargs)}
        for p in plugins
    ]


VIGIL_ONLY_WARNING = re.compile(r"^.*:\d+: warning: ")


def server_dump(config: Config) -> dict[str, Any]:
    s = config.supervisord
    return {
        "supervisord": {
            "logfile": s.logfile,
            "logfile_maxbytes": s.logfile_maxbytes,
            "logfile_backups": s.logfile_backups,
            "loglevel": int(s.loglevel),
            "pidfile": s.pidfile,
            "umask": s.umask,
            "nodaemon": s.nodaemon,
            "silent": s.silent,
            "minfds": s.minfds,
            "minprocs": s.minprocs,
            "nocleanup": s.nocleanup,
            "childlogdir": s.childlogdir,
            "user": s.user,
            "directory": s.directory,
            "strip_ansi": s.strip_ansi,
            "environment": [list(item) for item in s.environment],
            "identifier": s.identifier,
        },
        "groups": [_group(g) for g in config.groups],
        "unix_servers": [
            {
                "name": u.name,
                "file": u.file,
                "chmod": u.chmod,
                "chown": list(u.chown) if u.chown else None,
                "username": u.username,
                "password": u.password,
            }
            for u in config.unix_servers
        ],
        "inet_servers": [
            {
                "name": i.name,
                "host": i.host,
                "port": i.port,
                "username": i.username,
                "password": i.password,
            }
            for i in config.inet_servers
        ],
        "rpcinterfaces": _plugins(config.rpcinterfaces),
        "warnings": [w for w in config.warnings if not VIGIL_ONLY_WARNING.match(w)],
        "infos": list(config.infos),
    }


def ctl_dump(ctl: CtlConfig, plugins: tuple[PluginConfig, ...]) -> dict[str, Any]:
    return {
        "serverurl": ctl.serverurl,
        "username": ctl.username,
        "password": ctl.password,
        "prompt": ctl.prompt,
        "history_file": ctl.history_file,
        "plugins": _plugins(plugins),
    }


def supervisor_core(message: str) -> str:
    """Supervisor's message without the ``in section ... (file: ...)`` it appends."""
    return re.sub(r" in section '[^']*' \(file: '[^']*'\)$", "", message)
