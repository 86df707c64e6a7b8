"""Whatever a configuration file holds, loading it either succeeds or raises ConfigError:
no KeyError, TypeError, IndexError, UnicodeDecodeError or anything else leaks out."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.config import ConfigError, check, load, load_ctl
from vigil.config.loader import CTL_KEYS, SUPERVISORD_KEYS, UNIX_SERVER_KEYS
from vigil.config.programs import FCGI_KEYS, LISTENER_KEYS

SECTIONS = [
    "supervisord",
    "supervisorctl",
    "unix_http_server",
    "inet_http_server",
    "inet_http_server:x",
    "include",
    "program:a",
    "program:b",
    "program:",
    "program:a b",
    "group:g",
    "eventlistener:e",
    "fcgi-program:f",
    "rpcinterface:supervisor",
    "ctlplugin:c",
    "DEFAULT",
    "unknown",
]
KEYS = sorted(
    SUPERVISORD_KEYS
    | CTL_KEYS
    | UNIX_SERVER_KEYS
    | LISTENER_KEYS
    | FCGI_KEYS
    | {"port", "files", "programs", "supervisor.rpcinterface_factory", "supervisor.ctl_factory"}
)
INTERESTING = [
    "",
    "0",
    "1",
    "-1",
    "99999999999999999999",
    "1" * 5000,
    "true",
    "AUTO",
    "NONE",
    "syslog",
    "/dev/stdout",
    "/dev/null",
    "/tmp",
    "/tmp/x.log",
    "~",
    "~nosuchuser/x",
    "nobody",
    "root:root",
    "%(here)s",
    "%(program_name)s",
    "%(process_num)d",
    "%(process_num)c",
    "%(process_num)99999d",
    "%(here).99999f",
    "%(x",
    "%",
    "%s",
    "%%",
    "%(ENV_HOME)s",
    "%(numprocs)*s",
    'A="1,2",B=3',
    'A="',
    "A=1,B",
    "unix:///tmp/s.sock",
    "tcp://h:1",
    "tcp://h:99999",
    "1KB",
    "1.5MB",
    "kill",
    "SIG_DFL",
    "0,256",
    "*:9001",
    ":",
    "a:b:c",
    "\x00",
    "\udcff",
    "é",
    "\u2028",
    "\t",
    "x ; y",
    "9" * 30 + "KB",
    "0o777",
    "supervisor.rpcinterface:make_main_rpcinterface",
    "*.ini",
    "../*",
    "nomatch/*.conf",
    "%(here)s/*.ini",
    "10001",
    "-5",
]
VALUES = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(alphabet=st.sampled_from(list("%()sdcx1 ,=\"';#:/.-*\n\tAEV_")), max_size=30),
    st.text(max_size=20),
)
OPTION = st.tuples(st.sampled_from(KEYS), VALUES).map(lambda kv: f"{kv[0]} = {kv[1]}")
SECTION = st.tuples(st.sampled_from(SECTIONS), st.lists(OPTION, max_size=8)).map(
    lambda s: "\n".join([f"[{s[0]}]", *s[1]])
)
FILE = st.one_of(
    st.lists(SECTION, max_size=6).map(lambda sections: "\n".join(["[supervisord]", *sections])),
    st.lists(SECTION, max_size=6).map("\n".join),
    st.text(max_size=300),
)
ENCODED = st.one_of(FILE.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary())


def _load_everything(path: Path) -> None:
    for reader in (load, load_ctl):
        with contextlib.suppress(ConfigError):
            reader(str(path), environ={"HOME": "/root", "X": "%"})
    assert isinstance(check(str(path), environ={}), list)


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(main=ENCODED, included=ENCODED)
def test_any_file_loads_or_raises_config_error(main: bytes, included: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "supervisord.conf"
        path.write_bytes(main)
        (Path(directory) / "extra.ini").write_bytes(included)
        _load_everything(path)
