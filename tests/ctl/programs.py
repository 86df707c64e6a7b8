"""The programs the supervisorctl scenarios run: every state and failure an action can meet."""

from __future__ import annotations

import sys
from pathlib import Path

PY = sys.executable

# ``{dir}`` is the daemon's temporary directory.
PROGRAMS = f"""
[program:sleeper]
command=sleep 1000
startsecs=0

[program:exiter]
command={PY} -c "pass"
startsecs=0
autorestart=false

# Exits at once, long before its startsecs: "Exited too quickly" however slow the machine is
# (with startsecs=1 a loaded machine could take longer than that to start Python).
[program:quick]
command={PY} -c "raise SystemExit(1)"
startsecs=3600
startretries=0
autostart=false

[group:grp]
programs=manual

[program:manual]
command=sleep 1000
autostart=false
startsecs=0

[program:multi]
command=sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)02d
startsecs=0

[program:nofile]
command={{dir}}/does-not-exist
autostart=false

[program:notexec]
command={{dir}}/not-executable
autostart=false

"""

# Where the programs settle once the daemon has started them.
SETTLED = {
    "sleeper": "RUNNING",
    "exiter": "EXITED",
    "quick": "STOPPED",
    "grp:manual": "STOPPED",
    "multi:multi_00": "RUNNING",
    "multi:multi_01": "RUNNING",
}

ECHO = (
    "import sys, time; print('hello out'); print('hello err', file=sys.stderr); time.sleep(1000)"
)

# For the log actions: a process that writes to both channels, and one without log files.
LOG_PROGRAMS = f"""
[program:sleeper]
command=sleep 1000
startsecs=0

[program:echoer]
command={PY} -u -c "{ECHO}"
startsecs=0

[program:nolog]
command=sleep 1000
stdout_logfile=NONE
stderr_logfile=NONE
autostart=false
startsecs=0
"""

LOGS_SETTLED = {"sleeper": "RUNNING", "echoer": "RUNNING"}


def make_not_executable(directory: Path) -> None:
    target = directory / "not-executable"
    target.write_text("#!/bin/sh\n")
    target.chmod(0o644)
