"""vigil's loader against Supervisor 4.3.0's own ServerOptions/ClientOptions, file by file.

Every file of ``corpus/good`` is parsed by both and compared field by field (every field of
every process, the groups, the servers, the supervisord options, parse warnings and infos).
Every file of ``corpus/bad`` is refused by both, with Supervisor's message inside vigil's.
Every file of ``corpus/differ`` is accepted by Supervisor and refused by vigil on purpose:
its first line says which message vigil gives (``# expect: ...``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vigil.config import ConfigError, load, load_ctl
from vigil.config.model import AUTO, Config, CtlConfig, GroupConfig, PluginConfig, ProcessConfig
from vigil.config.programs import FCGI_DEFAULT_BACKLOG

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
ROOT = HERE.parent.parent
SUPERVISOR_PYTHON = ROOT / ".venv-supervisor" / "bin" / "python"

SAMPLE = ROOT / "vigil" / "skel" / "sample.conf"  # vigil's echo_supervisord_conf
GOOD = sorted([*CORPUS.glob("good/*.conf"), *CORPUS.glob("good/*/main.conf"), SAMPLE])
BAD = sorted([*CORPUS.glob("bad/*.conf"), *CORPUS.glob("bad/*/main.conf")])
DIFFER = sorted(CORPUS.glob("differ/*.conf"))

# Refused by both, in different words (Supervisor's text here is a Python artefact).
MESSAGE_DIFFERS = {
    "parse_error_line": "Supervisor prints configparser's multi-line ParsingError",
    "no_section_header": "Supervisor prints configparser's MissingSectionHeaderError",
    "include_broken": "Supervisor prints configparser's multi-line ParsingError",
    "fcgi_relative_unix_socket": "Supervisor formats a tuple (a bug in parse_fcgi_socket)",
    "fcgi_bad_socket_format": "Supervisor formats a tuple (a bug in parse_fcgi_socket)",
    "group_unknown_program": "Supervisor names the previous member's section (a reused variable)",
}

ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": os.environ.get("HOME", "/root"),
    "VIGIL_TEST": "hello",
    "LOGLEVEL": "info",
    "INCLUDE_SUFFIX": "one",
    "TEST_USER": "nobody",
    "SPACED": "a b",
}


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(CORPUS if p.is_relative_to(CORPUS) else ROOT)) for p in paths]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cwd")
    (path / "sub").mkdir()
    return path


@pytest.fixture(scope="module")
def supervisor(workdir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Supervisor's parse of every corpus file, in one run of its interpreter."""
    if not SUPERVISOR_PYTHON.exists():
        pytest.fail("the Supervisor reference venv is missing: run `make supervisor-ref`")
    cases = [
        {"mode": mode, "path": str(path), "env": ENV, "cwd": str(workdir)}
        for path in GOOD + BAD + DIFFER
        for mode in ("server", "ctl")
    ]
    output = subprocess.run(
        [str(SUPERVISOR_PYTHON), str(HERE / "supervisor_dump.py")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    results = json.loads(output)
    return {(c["mode"], c["path"]): r for c, r in zip(cases, results, strict=True)}


@pytest.fixture
def in_workdir(workdir: Path) -> Iterator[Path]:
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        yield workdir
    finally:
        os.chdir(previous)


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


def _server(config: Config) -> dict[str, Any]:
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


def _ctl(ctl: CtlConfig, plugins: tuple[PluginConfig, ...]) -> dict[str, Any]:
    return {
        "serverurl": ctl.serverurl,
        "username": ctl.username,
        "password": ctl.password,
        "prompt": ctl.prompt,
        "history_file": ctl.history_file,
        "plugins": _plugins(plugins),
    }


def _supervisor_core(message: str) -> str:
    """Supervisor's message without the ``in section ... (file: ...)`` it appends."""
    return re.sub(r" in section '[^']*' \(file: '[^']*'\)$", "", message)


# the tests


@pytest.mark.parametrize("path", GOOD, ids=_ids(GOOD))
def test_good_files_parse_the_same(
    path: Path, supervisor: dict[tuple[str, str], dict[str, Any]], in_workdir: Path
) -> None:
    expected = supervisor[("server", str(path))]
    assert "error" not in expected, expected
    # Supervisor repeats a program's warnings once per process; vigil says each once.
    expected["warnings"] = list(dict.fromkeys(expected["warnings"]))
    assert _server(load(str(path), environ=ENV)) == expected


@pytest.mark.parametrize("path", GOOD, ids=_ids(GOOD))
def test_good_files_read_the_same_by_supervisorctl(
    path: Path, supervisor: dict[tuple[str, str], dict[str, Any]], in_workdir: Path
) -> None:
    expected = supervisor[("ctl", str(path))]
    if "error" in expected:
        with pytest.raises(ConfigError) as caught:
            load_ctl(str(path), environ=ENV)
        assert expected["error"] in str(caught.value)
    else:
        assert _ctl(*load_ctl(str(path), environ=ENV)) == expected


@pytest.mark.parametrize("path", BAD, ids=_ids(BAD))
def test_bad_files_are_refused_by_both(
    path: Path, supervisor: dict[tuple[str, str], dict[str, Any]], in_workdir: Path
) -> None:
    expected = supervisor[("server", str(path))]
    assert "error" in expected, f"Supervisor accepts {path.name}"
    with pytest.raises(ConfigError) as caught:
        load(str(path), environ=ENV)
    name = path.parent.name if path.name == "main.conf" else path.stem
    if name not in MESSAGE_DIFFERS:
        assert _supervisor_core(expected["error"]) in str(caught.value)


@pytest.mark.parametrize("path", DIFFER, ids=_ids(DIFFER))
def test_vigil_refuses_what_supervisor_would_fail_on_later(
    path: Path, supervisor: dict[tuple[str, str], dict[str, Any]], in_workdir: Path
) -> None:
    assert "error" not in supervisor[("server", str(path))]
    expect = path.read_text().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(ConfigError) as caught:
        load(str(path), environ=ENV)
    assert expect in str(caught.value)


def test_the_corpus_is_large_enough() -> None:
    assert len(GOOD) >= 25
    assert len(BAD) >= 40
