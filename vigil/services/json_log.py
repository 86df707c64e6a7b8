"""The main log as JSON lines (``[supervisord] logformat = json``), for log shippers.

One object per record, on one line: ``time`` (RFC 3339, UTC, milliseconds), ``level``
(Supervisor's names: CRIT, ERRO, WARN, INFO, DEBG, TRAC, BLAT), ``message`` (the text the
text format shows, newlines escaped by JSON), and, where the message is one of Supervisor's
process messages (``spawned: 'web' with pid 12``, ``exited: web (exit status 1; not
expected)``, ``success: web entered RUNNING state ...``), ``event`` (the word before the colon:
spawned, success, exited, stopped, gave up, spawnerr ...), ``process`` and ``pid`` when the
message names them. The text of every message stays as it is in the text format, so a
grep for it finds it in both.
"""

from __future__ import annotations

import json
import re

from vigil.services.line_stamps import Rfc3339

# Supervisor's process messages: "<event>: <name> ..." or "<event>: '<name>' ...".
_PROCESS_MESSAGE = re.compile(
    r"(?P<event>spawned|success|exited|stopped|gave up|spawnerr|killing|waiting for"
    r"|stopping|starting|backoff|fatal): '?(?P<process>[^\s',()]+)'?"
)
_PID = re.compile(r"\bpid (\d+)")
_stamp = Rfc3339()


def json_record(now: float, level_name: str, message: str) -> str:
    """One record as a JSON line (with its newline)."""
    record: dict[str, object] = {
        "time": _stamp(now).decode(),
        "level": level_name,
        "message": message,
    }
    found = _PROCESS_MESSAGE.match(message)
    if found is not None:
        record["event"] = found["event"]
        record["process"] = found["process"]
        pid = _PID.search(message)
        if pid is not None:
            record["pid"] = int(pid[1])
    return json.dumps(record, ensure_ascii=False) + "\n"
