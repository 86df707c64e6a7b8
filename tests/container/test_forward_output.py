"""Forwarded output as PID 1: every line of several flooding programs reaches vigil's
stdout (a pipe, as a container runtime gives it) whole, prefixed with its process name, in
order, none lost; the channel is still readable through tail from memory."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from tests.container.namespace import Pid1, container_config
from tests.daemon.daemonized import Started
from tests.support import unix_proxy, wait_until

LINES = 3000
# Lines of 0 to 9,000 bytes (many longer than a pipe's atomic 4 KiB), written in pieces of
# every size, so that reads cut lines anywhere. Each says its number and length.
FLOODER = """\
import os, random, sys
rng = random.Random(int(sys.argv[1]))
out = b""
for number in range({lines}):
    payload = b"x" * rng.choice((0, 10, 100, 1000, 4000, 9000))
    out += b"%d:%d:" % (number, len(payload)) + payload + b"\\n"
    if len(out) > 20000 or number == {lines} - 1:
        cut = rng.randrange(1, len(out) + 1)
        os.write(1, out[:cut]); os.write(1, out[cut:]); out = b""
os.write(1, b"done\\n")
os.close(1)
import time; time.sleep(1000)
"""
LINE = re.compile(rb"(flood_\d) \| (\d+):(\d+):(x*)\Z")


def test_a_flood_from_several_programs_arrives_whole_and_in_order(
    tmp_path: Path, cleanup: Started
) -> None:
    (tmp_path / "flood.py").write_text(FLOODER.format(lines=LINES))
    conf = container_config(
        tmp_path,
        f"""
        [program:flood]
        command=python3 {tmp_path}/flood.py %(process_num)d
        process_name=flood_%(process_num)d
        numprocs=4
        startsecs=0
        """,
    )
    pid1 = Pid1(conf, cleanup)
    wait_until(lambda: pid1.output().count(b" | done\n") == 4, 120, "every flooder's last line")
    # the tail of a forwarded channel without a log file comes from memory
    tail = unix_proxy(tmp_path / "s.sock").supervisor.tailProcessStdoutLog("flood:flood_0", 0, 100)
    assert tail[0].endswith("done\n") and tail[1] > 0
    pid1.vigil.send_signal(signal.SIGTERM)
    assert pid1.wait() == 0
    seen: dict[bytes, int] = {}
    for line in pid1.output().split(b"\n")[:-1]:
        if line.endswith(b" | done") or b" INFO " in line or b" WARN " in line:
            continue
        if line.startswith(b"20") and b" CRIT " in line:
            continue
        match = LINE.match(line)
        assert match is not None, line[:200]
        name, number, length, payload = match.groups()
        assert int(length) == len(payload), line[:200]
        assert int(number) == seen.get(name, 0), (name, number)
        seen[name] = int(number) + 1
    assert seen == {f"flood_{n}".encode(): LINES for n in range(4)}
    assert not list(tmp_path.glob("flood_*-stdout*.log")), "no AUTO log file in container mode"
