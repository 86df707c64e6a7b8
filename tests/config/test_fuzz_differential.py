"""Random configurations, parsed by Supervisor 4.3.0 and by vigil: the same verdicts, the same
result. Files are built from pools of valid, odd and invalid values for every option, with
``%(...)s`` names in every place, so each run compares a few hundred corner combinations.

Where vigil refuses a file Supervisor accepts, every error must be one of vigil's deliberate
refusals (each also in ``corpus/differ``).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from tests.config.support import ENV, ctl_dump, run_supervisor, server_dump
from vigil.config import ConfigError, load, load_ctl

# A longer hunt: VIGIL_FUZZ_SEED=7 VIGIL_FUZZ_COUNT=5000 pytest <this file>
SEED = int(os.environ.get("VIGIL_FUZZ_SEED", "430"))
COUNT = int(os.environ.get("VIGIL_FUZZ_COUNT", "400"))

INTEGERS = [
    "1",
    "0",
    "-3",
    "!abc",
    "!",
    "1_0",
    " 5",
    "%(ENV_NUM)s",
    "!%(process_num)s",
    "!1.5",
    "+2",
]
BOOLEANS = ["true", "false", "yes", "NO", "1", "0", "!maybe", "!", "On", "%(ENV_YES)s"]
SIGNALS = ["TERM", "kill", "9", "SIGHUP", "0", "!99", "!NOPE", "SIG_IGN", "!", "usr1", "Int"]
EXITCODES = ["0", "0,1", "", "!256", "!a", "0, 2", "!1,,2", "!-1"]
BYTES = ["0", "1KB", "50MB", "1gb", "-1", "!1.5MB", "!10k", "!", "!kb", "!1 MB", "%(ENV_NUM)sKB"]
LOGFILES = [
    "AUTO",
    "NONE",
    "off",
    "syslog",
    "/tmp/x.log",
    "!/nonexistent/x.log",
    "rel.log",
    "/tmp/%(program_name)s-%(process_num)s.log",
    "/dev/stdout",
    "!/tmp/%%.log",
    "/tmp/%%%%.log",
    "",
    "%(here)s/%(group_name)s.log",
    "/tmp/%(ENV_OWN)s.log",
    "Auto",
]
ENVIRONMENTS = [
    "A=1",
    'A="1,2",B=3',
    "!A=1,B",
    '!A="x',
    "",
    "A=%(ENV_HOME)s",
    "A=%(process_num)s",
    "A='q'",
    "!A=a b",
    "OWN=own,B=%(ENV_OWN)s",
    "A=%(host_node_name)s",
    "A=50%%",
    "!A=x@y",
    "A=%(ENV_GLOBAL)s",
    "GLOBAL=mine",
]
NAMES = [
    "%(program_name)s",
    "%(program_name)s_%(process_num)s",
    "!x y",
    "!a:b",
    "%(process_num)02d",
    "p%%",
    "%(group_name)s-%(process_num)d",
    "%(ENV_OWN)s",
    "n_%(numprocs)s_%(process_num)s",
]
COMMANDS = [
    "/bin/cat",
    "",
    "/bin/echo %(ENV_NUM)s",
    "%(here)s/x",
    "a ; b",
    "x %(host_node_name)s",
    "/bin/echo %(group_name)s %(program_name)s %(process_num)s of %(numprocs)s",
    "/bin/date +%%s",
    "/bin/echo %(ENV_OWN)s",
    "!/bin/echo %(ENV_NOPE)s",
    "!/bin/echo %(x",
]
AUTORESTARTS = ["true", "unexpected", "false", "Unexpected", "!x", "1", "OFF"]
OCTALS = ["022", "0", "!8", "!abc", "0o7", "777", "!"]
USERS = ["root", "nobody", "65534", "!nosuch", "0", "%(ENV_TEST_USER)s"]
SERVERURLS = ["AUTO", "auto", "http://x:1", "", "unix:///tmp/s.sock", "%(ENV_NUM)s"]
PRIORITIES = ["1", "-1", "999", "!x", "!%(program_name)s", "%(ENV_NUM)s", "5"]
EVENTS = ["PROCESS_STATE", "tick_5,TICK_60", "!", "!NOPE", "PROCESS_LOG, EVENT", "!,", "tick_5"]
SOCKETS = [
    "unix:///tmp/%(program_name)s.sock",
    "tcp://localhost:9000",
    "!unix://rel.sock",
    "!udp://x:1",
    "!tcp://localhost:0",
    "!",
    "tcp://Host:65535",
    "unix:///tmp/../tmp/f.sock",
]
DIRECTORIES = ["/tmp", "!/nonexistent", "%(here)s", "~", "!", "%(ENV_HOME)s"]
PROGRAM_NAMES = ["a", "b", "web", "w.1", "a", "b", "web", "w.1", "!c d", "!x:y"]

PROGRAM_OPTIONS: dict[str, list[str]] = {
    "command": COMMANDS,
    "process_name": NAMES,
    "numprocs": ["1", "2", "0", "-1", "3", "!x"],
    "numprocs_start": ["0", "5", "-2", "!x"],
    "priority": PRIORITIES,
    "autostart": BOOLEANS,
    "autorestart": AUTORESTARTS,
    "startsecs": INTEGERS,
    "startretries": INTEGERS,
    "exitcodes": EXITCODES,
    "stopsignal": SIGNALS,
    "stopwaitsecs": INTEGERS,
    "stopasgroup": BOOLEANS,
    "killasgroup": BOOLEANS,
    "user": USERS,
    "redirect_stderr": BOOLEANS,
    "stdout_logfile": LOGFILES,
    "stdout_logfile_maxbytes": BYTES,
    "stdout_logfile_backups": INTEGERS,
    "stdout_capture_maxbytes": BYTES,
    "stdout_events_enabled": BOOLEANS,
    "stdout_syslog": BOOLEANS,
    "stderr_logfile": LOGFILES,
    "stderr_logfile_maxbytes": BYTES,
    "stderr_logfile_backups": INTEGERS,
    "stderr_capture_maxbytes": BYTES,
    "stderr_events_enabled": BOOLEANS,
    "stderr_syslog": BOOLEANS,
    "environment": ENVIRONMENTS,
    "directory": DIRECTORIES,
    "umask": OCTALS,
    "serverurl": SERVERURLS,
}
SUPERVISORD_OPTIONS: dict[str, list[str]] = {
    "logfile": ["/tmp/sd.log", "!/nonexistent/sd.log", "syslog", "rel.log", "%(here)s/x.log"],
    "logfile_maxbytes": BYTES,
    "logfile_backups": INTEGERS,
    "loglevel": ["info", "DEBUG", "warn", "blather", "!verbose", "critical", "!"],
    "pidfile": ["/tmp/sd.pid", "!/nonexistent/x.pid", "rel.pid"],
    "umask": OCTALS,
    "nodaemon": BOOLEANS,
    "silent": BOOLEANS,
    "minfds": INTEGERS,
    "minprocs": INTEGERS,
    "nocleanup": BOOLEANS,
    "childlogdir": DIRECTORIES,
    "user": USERS,
    "directory": DIRECTORIES,
    "strip_ansi": BOOLEANS,
    "environment": ["GLOBAL=g", 'GLOBAL="a b",OWN=o', "A=%(here)s", "!A=%(host_node_name)s", ""],
    "identifier": ["supervisor", "x%%", "%(ENV_OWN)s", "%(here)s", ""],
}
CTL_OPTIONS: dict[str, list[str]] = {
    "serverurl": [
        "unix://%(here)s/s.sock",
        "http://h:1",
        "unix://rel/../s.sock",
        "x",
        "",
        "%(ENV_OWN)s",
    ],
    "username": ["u", "%(ENV_OWN)s", "", "!%(nope)s"],
    "password": ["p", "p%%w", "!50%"],
    "prompt": ["vigil", "", "%(ENV_OWN)s>", "!%(here)s"],
    "history_file": ["~/.h", "%(here)s/h", "", "rel/h"],
}

# A value written "!x" is one the option refuses; it is picked with this probability.
INVALID = 0.04

# vigil refuses these where Supervisor accepts (see corpus/differ).
DELIBERATE = (
    "cannot be rotated",
    "without a name",
    "has an empty name",
    "vigil cannot load",
    "takes no options",
)


def _pick(rng: random.Random, values: list[str]) -> str:
    valid = [v for v in values if not v.startswith("!")]
    invalid = [v[1:] for v in values if v.startswith("!")]
    if invalid and (rng.random() < INVALID or not valid):
        return rng.choice(invalid)
    return rng.choice(valid)


def _options(rng: random.Random, pool: dict[str, list[str]], count: int) -> list[str]:
    names = rng.sample(sorted(pool), min(count, len(pool)))
    return [f"{name}={_pick(rng, pool[name])}" for name in names]


def _program(rng: random.Random, kind: str, name: str) -> list[str]:
    lines = [f"[{kind}:{name}]"]
    if rng.random() < 0.9:
        lines.append(f"command={_pick(rng, COMMANDS)}")
    lines += _options(rng, PROGRAM_OPTIONS, rng.randint(0, 6))
    if kind == "eventlistener":
        if rng.random() < 0.9:
            lines.append(f"events={_pick(rng, EVENTS)}")
        if rng.random() < 0.3:
            lines.append(f"buffer_size={_pick(rng, INTEGERS)}")
    if kind == "fcgi-program":
        if rng.random() < 0.9:
            lines.append(f"socket={_pick(rng, SOCKETS)}")
        if rng.random() < 0.1:
            lines.append(f"socket_mode={_pick(rng, OCTALS)}")
        if rng.random() < 0.05:
            lines.append(f"socket_owner={_pick(rng, USERS)}")
        if rng.random() < 0.2:
            lines.append(f"socket_backlog={_pick(rng, INTEGERS)}")
    return lines


def _config(rng: random.Random) -> str:
    lines: list[str] = []
    if rng.random() < 0.97:
        lines.append("[supervisord]")
        lines += _options(rng, SUPERVISORD_OPTIONS, rng.randint(0, 4))
    programs = list(dict.fromkeys(_pick(rng, PROGRAM_NAMES) for _ in range(rng.randint(0, 3))))
    for name in programs:
        kind = rng.choice(["program", "program", "program", "eventlistener", "fcgi-program"])
        lines += _program(rng, kind, name)
    if programs and rng.random() < 0.3:
        members = rng.sample(programs, rng.randint(1, len(programs)))
        if rng.random() < INVALID:
            members.append("missing")
        lines += [
            "[group:g]",
            f"programs={','.join(members)}",
            f"priority={_pick(rng, PRIORITIES)}",
        ]
    if rng.random() < 0.3:
        lines += ["[unix_http_server]", f"file={_pick(rng, ['/tmp/f.sock', '%(here)s/s', ''])}"]
        lines += _options(rng, {"chmod": OCTALS, "chown": USERS}, rng.randint(0, 2))
        lines += _credentials(rng)
    if rng.random() < 0.3:
        lines += [
            "[inet_http_server]",
            f"port={_pick(rng, ['9001', ':9001', '*:1', '!x:y', '!0'])}",
        ]
        lines += _credentials(rng)
    if rng.random() < 0.5:
        lines.append("[supervisorctl]")
        lines += _options(rng, CTL_OPTIONS, rng.randint(0, 5))
    if rng.random() < 0.1:
        lines += ["[DEFAULT]", rng.choice(["autostart=false", "startsecs=x", "priority=3"])]
    return "\n".join(lines) + "\n"


def _credentials(rng: random.Random) -> list[str]:
    if rng.random() < INVALID:
        return [rng.choice(["username=u", "password=p", "password=50%"])]
    if rng.random() < 0.5:
        return ["username=u", f"password={rng.choice(['p', '%(ENV_OWN)s', '{SHA}abc'])}"]
    return []


def test_random_configs_parse_as_supervisor_parses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(SEED)
    env = {**ENV, "NUM": "7", "YES": "yes", "OWN": "own", "GLOBAL": "env"}
    paths = []
    for index in range(COUNT):
        path = tmp_path / f"case{index:03d}.conf"
        path.write_text(_config(rng))
        paths.append(path)
    monkeypatch.chdir(tmp_path)
    cases = [
        {"mode": mode, "path": str(p), "env": env, "cwd": str(tmp_path)}
        for p in paths
        for mode in ("server", "ctl")
    ]
    results = iter(run_supervisor(cases))
    mismatches: list[str] = []
    for path in paths:
        server, ctl = next(results), next(results)
        mismatch = _compare(path, server, env) or _compare_ctl(path, ctl, env)
        if mismatch:
            mismatches.append(f"{path.name}: {mismatch}\n{path.read_text()}")
    assert not mismatches, "\n\n".join(mismatches[:5])


def _compare(path: Path, expected: dict[str, Any], env: dict[str, str]) -> str | None:
    try:
        config = load(str(path), environ=env)
    except ConfigError as exc:
        if "error" in expected:
            return None
        others = [p for p in exc.problems if not any(d in str(p) for d in DELIBERATE)]
        return f"vigil refuses what Supervisor accepts: {others}" if others else None
    if "error" in expected:
        return f"vigil accepts what Supervisor refuses: {expected['error']}"
    expected["warnings"] = list(dict.fromkeys(expected["warnings"]))
    return _differences(server_dump(config), expected)


def _compare_ctl(path: Path, expected: dict[str, Any], env: dict[str, str]) -> str | None:
    try:
        ours = ctl_dump(*load_ctl(str(path), environ=env))
    except ConfigError as exc:
        return None if "error" in expected else f"vigil's supervisorctl refuses: {exc}"
    if "error" in expected:
        return f"vigil's supervisorctl accepts what Supervisor's refuses: {expected['error']}"
    return _differences(ours, expected)


def _differences(ours: dict[str, Any], expected: dict[str, Any]) -> str | None:
    if ours != expected:
        diffs = {k: (ours[k], expected[k]) for k in ours if ours[k] != expected.get(k)}
        return f"different result: {diffs}"
    return None
