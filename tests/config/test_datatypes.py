"""The value converters: each input against Supervisor 4.3.0's own datatypes.py (the same
value, or the same error message), plus examples that read as documentation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import Any

import pytest

from tests.config.support import SUPERVISOR_PYTHON
from vigil.config import datatypes as dt
from vigil.config.model import AUTO, AutoRestart, LogLevel

INPUTS: dict[str, list[str]] = {
    "boolean": ["true", "TRUE", "yes", "on", "1", "false", "No", "off", "0", "", "maybe", "y"],
    "integer": ["1", "-1", "+5", " 7 ", "1_000", "0x10", "1.5", "", "abc", "٣", "9" * 30],
    "byte_size": [
        "0",
        "1024",
        "1KB",
        "1kb",
        "2MB",
        "3gb",
        "1.5MB",
        "10k",
        "KB",
        "",
        "-1KB",
        " 5 MB",
        "5 mb",
        "1_0KB",
        "1B",
    ],
    "octal_type": ["022", "0", "777", "0o17", "8", "abc", "", " 7"],
    "signal_number": [
        "TERM",
        "term",
        "SIGTERM",
        "sigKill",
        "9",
        "0",
        "99",
        "-1",
        "NOPE",
        "SIG_IGN",
        "RTMIN",
        " hup ",
        "",
        "SIGNALS",
    ],
    "list_of_exitcodes": ["0", "0,2", "", "0, 255", "256", "-1", "a", "1,,2", " 3 "],
    "dict_of_key_value_pairs": [
        "A=1",
        'A="1,2",B=3',
        "A='x y'",
        "A=a/b.c+d-e(f):g",
        "A=1,B",
        'A="unclosed',
        "A=x@y",
        "A=1 B=2",
        "",
        "A=1,",
        "A=1;B=2",
        '"K"=v',
        "A=#comment",
        "A=é",
        "A==1",
        "=1",
    ],
    "process_or_group_name": ["web", " web ", "a b", "a:b", "a/b", "", "web.1", "ünï"],
    "existing_directory": ["/tmp", "/no/such/dir", "~", "", "/etc/passwd"],
    "existing_dirpath": ["/tmp/x.log", "/no/such/dir/x.log", "x.log", "~/x.log", ""],
    "logfile_name": [
        "AUTO",
        "auto",
        "NONE",
        "off",
        "syslog",
        "SysLog",
        "/tmp/x.log",
        "/no/dir/x",
        "x",
    ],
    "logging_level": [
        "info",
        "INFO",
        "critical",
        "error",
        "warn",
        "debug",
        "trace",
        "blather",
        "warning",
        "verbose",
        "",
    ],
    "inet_address": [
        "9001",
        ":9001",
        "*:9001",
        "LocalHost:80",
        "host:",
        "host:http",
        "0",
        "65536",
        "a:b:9001",
        "[::1]:9001",
        "abc",
    ],
    "url": [
        "http://localhost:9001",
        "unix:///tmp/s.sock",
        "localhost:9001",
        "/path",
        "http://",
        "",
        "unix://",
    ],
    "auto_restart": ["true", "false", "unexpected", "UNEXPECTED", "On", "0", "sometimes"],
    "colon_separated_user_group": [
        "root",
        "root:root",
        "0:0",
        "nobody:nogroup",
        "nosuch",
        "root:nosuch",
        "4242424:0",
    ],
    "name_to_uid": ["root", "0", "nobody", "65534", "nosuch", "4242424", "-1"],
    "name_to_gid": ["root", "0", "nogroup", "nosuch", "4242424"],
}

SUPERVISOR_SIDE = r"""
import json, sys
from supervisor import datatypes as d
def show(v):
    if v is d.Automatic: return "AUTO"
    if v is d.Syslog: return "SYSLOG"
    if v is d.RestartUnconditionally: return "true"
    if v is d.RestartWhenExitUnexpected: return "unexpected"
    if v is False: return False
    if isinstance(v, tuple): return list(v)
    return v
out = {}
for name, inputs in json.load(sys.stdin).items():
    out[name] = []
    for text in inputs:
        try:
            out[name].append({"value": show(getattr(d, name)(text))})
        except Exception as exc:
            out[name].append({"error": str(exc)})
json.dump(out, sys.stdout)
"""

VIGIL: dict[str, Any] = {
    "boolean": dt.boolean,
    "integer": dt.integer,
    "byte_size": dt.byte_size,
    "octal_type": dt.octal,
    "signal_number": dt.signal_number,
    "list_of_exitcodes": dt.list_of_exitcodes,
    "dict_of_key_value_pairs": dt.dict_of_key_value_pairs,
    "process_or_group_name": dt.process_or_group_name,
    "existing_directory": dt.existing_directory,
    "existing_dirpath": dt.existing_dirpath,
    "logfile_name": dt.logfile_name,
    "logging_level": dt.logging_level,
    "inet_address": dt.inet_address,
    "url": dt.url,
    "auto_restart": dt.auto_restart,
    "colon_separated_user_group": dt.colon_separated_user_group,
    "name_to_uid": dt.name_to_uid,
    "name_to_gid": dt.name_to_gid,
}


def _shown(value: Any) -> Any:
    if value is AUTO:
        return "AUTO"
    if value is dt.SYSLOG:
        return "SYSLOG"
    if isinstance(value, AutoRestart):
        return False if value is AutoRestart.NEVER else value.value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, LogLevel):
        return int(value)
    return value


@pytest.fixture(scope="module")
def supervisor_results() -> dict[str, list[dict[str, Any]]]:
    output = subprocess.run(
        [str(SUPERVISOR_PYTHON), "-c", SUPERVISOR_SIDE],
        input=json.dumps(INPUTS),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HOME": os.environ.get("HOME", "/root")},
    ).stdout
    results: dict[str, list[dict[str, Any]]] = json.loads(output)
    return results


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_converter_agrees_with_supervisor(
    name: str, supervisor_results: dict[str, list[dict[str, Any]]]
) -> None:
    for text, expected in zip(INPUTS[name], supervisor_results[name], strict=True):
        try:
            ours: dict[str, Any] = {"value": _shown(VIGIL[name](text))}
        except dt.ConversionError as exc:
            ours = {"error": str(exc)}
        assert json.loads(json.dumps(ours)) == expected, (name, text)


# examples


def test_boolean_message_names_the_value() -> None:
    with pytest.raises(dt.ConversionError, match=r"^not a valid boolean value: 'maybe'$"):
        dt.boolean("maybe")


def test_byte_size_suffixes_are_powers_of_1024() -> None:
    assert dt.byte_size("1KB") == 1024
    assert dt.byte_size("50MB") == 50 * 1024 * 1024
    assert dt.byte_size("1GB") == 1024**3
    with pytest.raises(dt.ConversionError, match="invalid literal for int"):
        dt.byte_size("1K")


def test_signal_number_accepts_names_with_or_without_sig() -> None:
    assert dt.signal_number("term") == signal.SIGTERM
    assert dt.signal_number("SIGKILL") == signal.SIGKILL
    assert dt.signal_number("1") == signal.SIGHUP
    with pytest.raises(dt.ConversionError, match="not a valid signal name"):
        dt.signal_number("NOPE")
    with pytest.raises(dt.ConversionError, match="not a valid signal number"):
        dt.signal_number("99")


def test_exitcodes_must_be_bytes() -> None:
    assert dt.list_of_exitcodes("0,2") == (0, 2)
    assert dt.list_of_exitcodes("") == ()
    with pytest.raises(dt.ConversionError, match="not a valid list of exit codes: '256'"):
        dt.list_of_exitcodes("256")


def test_environment_pairs_follow_supervisors_shlex_rules() -> None:
    assert dt.dict_of_key_value_pairs('A="1, 2",B=x/y.z') == {"A": "1, 2", "B": "x/y.z"}
    with pytest.raises(dt.ConversionError, match="Unexpected end of key/value pairs"):
        dt.dict_of_key_value_pairs("A=x@y")
    with pytest.raises(dt.ConversionError, match="No closing quotation"):
        dt.dict_of_key_value_pairs('A="open')


def test_names_refuse_space_colon_and_slash() -> None:
    assert dt.process_or_group_name(" web ") == "web"
    with pytest.raises(dt.ConversionError, match=r"Invalid name: 'a:b' because of character: ':'"):
        dt.process_or_group_name("a:b")


def test_logfile_names() -> None:
    assert dt.logfile_name("Auto") is AUTO
    assert dt.logfile_name("NONE") is None
    assert dt.logfile_name("syslog") is dt.SYSLOG
    assert dt.logfile_name("/tmp/x.log") == "/tmp/x.log"
    with pytest.raises(dt.ConversionError, match="directory named as part of the path"):
        dt.logfile_name("/no/such/dir/x.log")


def test_inet_address_forms() -> None:
    assert dt.inet_address("9001") == ("", 9001)
    assert dt.inet_address("*:9001") == ("", 9001)
    assert dt.inet_address("LOCALHOST:80") == ("localhost", 80)
    with pytest.raises(dt.ConversionError, match="65536 is above upper bound"):
        dt.inet_address(":65536")


def test_users_and_groups() -> None:
    assert dt.name_to_uid("root") == 0
    assert dt.colon_separated_user_group("root") == (0, -1)
    assert dt.colon_separated_user_group("0:0") == (0, 0)
    with pytest.raises(dt.ConversionError, match="Invalid user name nosuch"):
        dt.name_to_uid("nosuch")
    with pytest.raises(dt.ConversionError, match="Invalid user:group definition root:nosuch"):
        dt.colon_separated_user_group("root:nosuch")


def test_stream_paths(tmp_path: Any) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert dt.is_stream_path("/dev/stdout")
    assert dt.is_stream_path("/dev/stderr")
    assert dt.is_stream_path("/dev/fd/1")
    assert dt.is_stream_path("/proc/self/fd/2")
    assert dt.is_stream_path(str(fifo))
    assert not dt.is_stream_path("/dev/null")
    assert not dt.is_stream_path(str(tmp_path / "x.log"))


def test_convert_turns_any_failure_into_a_conversion_error() -> None:
    def broken(text: str) -> int:
        raise KeyError(text)

    with pytest.raises(dt.ConversionError):
        dt.convert(broken, "x")
