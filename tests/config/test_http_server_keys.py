"""``request_timeout`` and ``max_connections`` of ``[unix_http_server]`` and
``[inet_http_server]``: optional, read per section, rejected with a clear error when bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import ConfigError, check, load
from vigil.config.errors import Severity
from vigil.config.model import Config, InetServerConfig, UnixServerConfig

ENV = {"HOME": "/root"}

SERVERS = """
[supervisord]
[unix_http_server]
file=s.sock
{unix}
[inet_http_server]
port=127.0.0.1:9001
{inet}
[inet_http_server:other]
port=127.0.0.1:9002
"""


def _path(tmp_path: Path, unix: str = "", inet: str = "") -> str:
    path = tmp_path / "supervisord.conf"
    path.write_text(SERVERS.format(unix=unix, inet=inet))
    return str(path)


def _load(tmp_path: Path, unix: str = "", inet: str = "") -> Config:
    return load(_path(tmp_path, unix, inet), environ=ENV)


def test_without_the_keys_every_server_has_the_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path)
    servers = [*config.unix_servers, *config.inet_servers]
    assert [(s.request_timeout, s.max_connections) for s in servers] == [(30.0, 128)] * 3
    # both dataclasses carry the same defaults
    assert (
        UnixServerConfig("u", "f").request_timeout == InetServerConfig("i", "", 1).request_timeout
    )
    assert (
        UnixServerConfig("u", "f").max_connections == InetServerConfig("i", "", 1).max_connections
    )


def test_each_section_has_its_own_values(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        unix="request_timeout=2.5\nmax_connections=7",
        inet="request_timeout = 90\nmax_connections = 1000",
    )
    (unix,) = config.unix_servers
    first, other = config.inet_servers
    assert (unix.request_timeout, unix.max_connections) == (2.5, 7)
    assert (first.request_timeout, first.max_connections) == (90.0, 1000)
    assert (other.request_timeout, other.max_connections) == (30.0, 128)


def test_the_keys_are_known_options_not_warnings(tmp_path: Path) -> None:
    problems = check(
        _path(tmp_path, unix="request_timeout=5", inet="max_connections=9"), environ=ENV
    )
    assert not [p for p in problems if p.option in ("request_timeout", "max_connections")]


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("request_timeout", "0", "above 0"),
        ("request_timeout", "-1", "above 0"),
        ("request_timeout", "soon", "not a number of seconds"),
        ("request_timeout", "nan", "above 0"),
        ("request_timeout", "inf", "above 0"),
        ("max_connections", "0", "above 0"),
        ("max_connections", "2.5", "not a whole number"),
        ("max_connections", "many", "not a whole number"),
    ],
)
@pytest.mark.parametrize("section", ["unix_http_server", "inet_http_server"])
def test_a_bad_value_is_an_error_naming_the_option(
    tmp_path: Path, section: str, option: str, value: str, says: str
) -> None:
    line = f"{option}={value}"
    path = (
        _path(tmp_path, unix=line) if section == "unix_http_server" else _path(tmp_path, inet=line)
    )
    with pytest.raises(ConfigError) as caught:
        load(path, environ=ENV)
    (problem,) = caught.value.problems
    assert problem.severity is Severity.ERROR
    assert (problem.section, problem.option) == (section, option)
    assert says in problem.message
    assert problem.line > 0
