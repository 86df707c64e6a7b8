"""The keys of containers and hosts (issue 17) and of log timestamps, the JSON main log and
public metrics (issue 16): defaults that keep Supervisor's behaviour, what they read as, env
files in systemd's and dotenv's syntax, and bad values named with section, option and line."""

from __future__ import annotations

import pwd
import resource
from pathlib import Path

import pytest

from vigil.config import ConfigError, load
from vigil.config.env_files import EnvFileError, parse_env
from vigil.config.model import Config, LogFormat, ProcessConfig


def _load(tmp_path: Path, program: str, supervisord: str = "", extra: str = "") -> Config:
    path = tmp_path / "supervisord.conf"
    path.write_text(
        f"[supervisord]\n{supervisord}\n[program:p]\ncommand=sleep 1\n{program}\n{extra}"
    )
    return load(str(path))


def _process(config: Config) -> ProcessConfig:
    return config.groups[0].processes[0]


def test_without_the_keys_nothing_changes(tmp_path: Path) -> None:
    config = _load(tmp_path, "", extra="[inet_http_server]\nport=127.0.0.1:9999\n")
    process = _process(config)
    assert not process.essential and process.forward_output is None
    assert not (process.stdout_logfile_timestamps or process.stderr_logfile_timestamps)
    assert (process.nice, process.oom_score_adjust, process.rlimit_nofile) == (None, None, None)
    assert process.env_file == () and process.user_environment == ()
    assert config.supervisord.container is False
    assert config.supervisord.logformat is LogFormat.TEXT
    assert config.inet_servers[0].metrics_public is False


def test_the_keys_read_as_written(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "essential=true\nforward_output=false\nforward_output_timestamps=yes\n"
        "stdout_logfile_timestamps=true\nstderr_logfile_timestamps=on\n"
        "nice=-5\noom_score_adjust=500\nrlimit_nofile=1024:4096\nrlimit_core=unlimited\n"
        "rlimit_as=512MB\nrlimit_cpu=60:unlimited\n",
        "container=true\nlogformat=JSON",
        "[inet_http_server]\nport=127.0.0.1:9999\nmetrics_public=true\n",
    )
    process = _process(config)
    assert process.essential and process.forward_output is False
    assert process.forward_output_timestamps
    assert process.stdout_logfile_timestamps and process.stderr_logfile_timestamps
    assert (process.nice, process.oom_score_adjust) == (-5, 500)
    unlimited = resource.RLIM_INFINITY
    assert process.rlimit_nofile == (1024, 4096)
    assert process.rlimit_core == (unlimited, unlimited)
    assert process.rlimit_as == (512 * 1024 * 1024,) * 2
    assert process.rlimit_cpu == (60, unlimited)
    assert config.supervisord.container and config.supervisord.logformat is LogFormat.JSON
    assert config.inet_servers[0].metrics_public is True


@pytest.mark.parametrize(
    ("line", "option", "message"),
    [
        ("nice=20", "nice", "invalid 'nice' value '20' (from -20 to 19)"),
        ("oom_score_adjust=-1001", "oom_score_adjust", "(from -1000 to 1000)"),
        ("rlimit_nofile=lots", "rlimit_nofile", "(a whole number or 'unlimited')"),
        ("rlimit_nofile=10:5", "rlimit_nofile", "the soft limit is above the hard limit"),
        ("rlimit_as=unlimited:1GB", "rlimit_as", "the soft limit is above the hard limit"),
        ("essential=maybe", "essential", "not a valid boolean value"),
        ("env_file=", "env_file", "env_file names no file"),
    ],
)
def test_bad_values_name_section_and_option(
    tmp_path: Path, line: str, option: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, line)
    (problem,) = caught.value.problems
    assert message in problem.message
    assert (problem.section, problem.option) == ("program:p", option)


def test_logformat_is_text_or_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "", "logformat=yaml")
    (problem,) = caught.value.problems
    assert "(one of text, json)" in problem.message
    assert (problem.section, problem.option) == ("supervisord", "logformat")


def test_user_gives_home_user_logname_and_shell(tmp_path: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    process = _process(_load(tmp_path, "user=nobody"))
    assert dict(process.user_environment) == {
        "HOME": nobody.pw_dir,
        "USER": "nobody",
        "LOGNAME": "nobody",
        "SHELL": nobody.pw_shell,
    }
    # kept apart from `environment`, which stays what Supervisor makes of the file
    assert process.environment == ()


ENV_TEXT = """\
# a comment
; another
export A=1
B = "two words\\n and \\"quotes\\"" # a comment after the quote
C='single $NOT_EXPANDED'
D=bare value # part of the value, as in systemd
E="over
two lines"
F=continued \\
line

"""


def test_env_file_syntax() -> None:
    assert parse_env(ENV_TEXT, "x.env") == {
        "A": "1",
        "B": 'two words\n and "quotes"',
        "C": "single $NOT_EXPANDED",
        "D": "bare value # part of the value, as in systemd",
        "E": "over\ntwo lines",
        "F": "continued line",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A=1\nnot a variable\n", "x.env, line 2: no '=' in the line (expected NAME=value)"),
        ("A=1\n\n1BAD=2\n", "x.env, line 3: '1BAD' is not a variable name (expected NAME=value)"),
        ("A='open\n", "x.env, line 1: the single quote is never closed"),
        ('A="open\nB=2\n', "x.env, line 1: the double quote is never closed"),
        ("A='x' y\n", "x.env, line 1: text after the closing quote: 'y'"),
    ],
)
def test_env_file_errors_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(EnvFileError) as caught:
        parse_env(text, "x.env")
    assert str(caught.value) == message


def test_env_files_come_before_environment(tmp_path: Path) -> None:
    (tmp_path / "base.env").write_text("SHARED=base\nBASE_ONLY=1\n")
    (tmp_path / "app.env").write_text("SHARED=app\nAPP=1\nOWN=from-file\n")
    config = _load(
        tmp_path,
        "env_file=app.env, -missing.env\nenvironment=OWN=own,REF=%(ENV_APP)s",
        f"env_file={tmp_path}/base.env",
    )
    process = _process(config)
    assert dict(process.environment) == {
        "SHARED": "app",
        "BASE_ONLY": "1",
        "APP": "1",
        "OWN": "own",
        "REF": "1",
    }
    assert process.env_file == (f"{tmp_path}/app.env", f"-{tmp_path}/missing.env")
    assert config.supervisord.env_file == (f"{tmp_path}/base.env",)


def test_a_missing_env_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "env_file=missing.env")
    (problem,) = caught.value.problems
    assert f"env_file {tmp_path}/missing.env: no such file" in problem.message
    assert (problem.section, problem.option) == ("program:p", "env_file")
    assert problem.line == 5


def test_a_bad_line_in_an_env_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "bad.env").write_text("GOOD=1\nBAD LINE\n")
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "", "env_file=bad.env")
    (problem,) = caught.value.problems
    assert f"{tmp_path}/bad.env, line 2: no '=' in the line" in problem.message
    assert (problem.section, problem.option) == ("supervisord", "env_file")


def test_a_changed_env_file_changes_the_program_on_reread(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("V=1\n")
    before = _process(_load(tmp_path, "env_file=app.env"))
    (tmp_path / "app.env").write_text("V=2\n")
    after = _process(_load(tmp_path, "env_file=app.env"))
    assert before != after and dict(after.environment) == {"V": "2"}
