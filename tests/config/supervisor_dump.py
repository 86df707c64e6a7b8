"""Parse configuration files with Supervisor 4.3.0's own option classes and print the result.

Run with the Supervisor venv's python (``.venv-supervisor/bin/python``). Reads a JSON list of
cases from stdin, each ``{"mode": "server" | "ctl", "path": ..., "env": {...}, "cwd": ...}``,
and prints a JSON list with one result per case: the parsed configuration, in the shape
``tests/config/test_differential.py`` builds from vigil's model, or ``{"error": message}``
when Supervisor refuses the file.
"""

import json
import os
import sys

from supervisor.datatypes import Automatic, RestartUnconditionally, RestartWhenExitUnexpected
from supervisor.events import getEventNameByType
from supervisor.options import (
    ClientOptions,
    EventListenerPoolConfig,
    FastCGIGroupConfig,
    ServerOptions,
)


class Usage(Exception):
    pass


def _usage(message):
    raise Usage(str(message))


def _spec(obj):
    return f"{obj.__module__}:{obj.__name__}"


def _logfile(value):
    if value is Automatic:
        return "AUTO"
    return value


def _autorestart(value):
    if value is RestartUnconditionally:
        return "true"
    if value is RestartWhenExitUnexpected:
        return "unexpected"
    return "false"


def _process(config):
    return {
        "name": config.name,
        "command": config.command,
        "priority": config.priority,
        "autostart": bool(config.autostart),
        "autorestart": _autorestart(config.autorestart),
        "startsecs": config.startsecs,
        "startretries": config.startretries,
        "exitcodes": list(config.exitcodes),
        "stopsignal": int(config.stopsignal),
        "stopwaitsecs": config.stopwaitsecs,
        "stopasgroup": bool(config.stopasgroup),
        "killasgroup": bool(config.killasgroup),
        "uid": config.uid,
        "redirect_stderr": bool(config.redirect_stderr),
        "stdout_logfile": _logfile(config.stdout_logfile),
        "stdout_logfile_maxbytes": config.stdout_logfile_maxbytes,
        "stdout_logfile_backups": config.stdout_logfile_backups,
        "stdout_capture_maxbytes": config.stdout_capture_maxbytes,
        "stdout_events_enabled": bool(config.stdout_events_enabled),
        "stdout_syslog": bool(config.stdout_syslog),
        "stderr_logfile": _logfile(config.stderr_logfile),
        "stderr_logfile_maxbytes": config.stderr_logfile_maxbytes,
        "stderr_logfile_backups": config.stderr_logfile_backups,
        "stderr_capture_maxbytes": config.stderr_capture_maxbytes,
        "stderr_events_enabled": bool(config.stderr_events_enabled),
        "stderr_syslog": bool(config.stderr_syslog),
        "environment": [list(item) for item in (config.environment or {}).items()],
        "directory": config.directory,
        "umask": config.umask,
        "serverurl": "AUTO" if config.serverurl is None else config.serverurl,
    }


def _group(config):
    result = {
        "name": config.name,
        "priority": config.priority,
        "kind": "program",
        "processes": [_process(p) for p in config.process_configs],
    }
    if isinstance(config, EventListenerPoolConfig):
        result["kind"] = "eventlistener"
        result["events"] = sorted(getEventNameByType(event) for event in config.pool_events)
        result["buffer_size"] = config.buffer_size
        result["result_handler"] = _spec(config.result_handler)
    if isinstance(config, FastCGIGroupConfig):
        result["kind"] = "fcgi-program"
        socket = config.socket_config
        result["fcgi_socket"] = {
            "url": socket.url,
            "backlog": socket.backlog,
            "owner": list(socket.owner) if getattr(socket, "owner", None) else None,
            "mode": getattr(socket, "mode", None),
        }
    return result


def _server(options):
    section = options.configroot.supervisord
    unix, inet = [], []
    for config in options.server_configs:
        if "file" in config:
            chown = config["chown"]
            unix.append(
                {
                    "name": config["section"],
                    "file": config["file"],
                    "chmod": config["chmod"],
                    "chown": None if tuple(chown) == (-1, -1) else list(chown),
                    "username": config["username"],
                    "password": config["password"],
                }
            )
        else:
            inet.append(
                {
                    "name": config["section"],
                    "host": config["host"],
                    "port": config["port"],
                    "username": config["username"],
                    "password": config["password"],
                }
            )
    return {
        "supervisord": {
            "logfile": options.logfile,
            "logfile_maxbytes": options.logfile_maxbytes,
            "logfile_backups": options.logfile_backups,
            "loglevel": options.loglevel,
            "pidfile": options.pidfile,
            "umask": options.umask,
            "nodaemon": bool(options.nodaemon),
            "silent": bool(options.silent),
            "minfds": options.minfds,
            "minprocs": options.minprocs,
            "nocleanup": bool(options.nocleanup),
            "childlogdir": options.childlogdir,
            "user": options.user,
            "directory": options.directory,
            "strip_ansi": bool(options.strip_ansi),
            "environment": [list(item) for item in section.environment.items()],
            "identifier": options.identifier,
        },
        "groups": [_group(g) for g in options.process_group_configs],
        "unix_servers": unix,
        "inet_servers": inet,
        "rpcinterfaces": [
            {"name": name, "factory": _spec(factory), "kwargs": sorted(extras.items())}
            for name, factory, extras in options.rpcinterface_factories
        ],
        "warnings": list(options.parse_warnings),
        "infos": list(options.parse_infos),
    }


def _ctl(options):
    return {
        "serverurl": options.serverurl,
        "username": options.username,
        "password": options.password,
        "prompt": options.prompt,
        "history_file": options.history_file,
        "plugins": [
            {"name": name, "factory": _spec(factory), "kwargs": sorted(extras.items())}
            for name, factory, extras in options.plugin_factories[1:]
        ],
    }


def run(case):
    os.environ.clear()
    os.environ.update(case["env"])
    os.chdir(case["cwd"])
    options = ServerOptions() if case["mode"] == "server" else ClientOptions()
    options.usage = _usage
    try:
        options.realize(args=["-c", case["path"]], doc="", progname="supervisord")
    except Usage as exc:
        return {"error": str(exc)}
    except Exception as exc:  # Supervisor itself crashed on the file
        return {"error": f"{type(exc).__name__}: {exc}", "crash": True}
    return _server(options) if case["mode"] == "server" else _ctl(options)


def main():
    cases = json.load(sys.stdin)
    results = [run(case) for case in cases]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
