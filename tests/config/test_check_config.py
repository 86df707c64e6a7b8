"""What `check` (and ``supervisord --check-config``) reports about the text of a file:
repeated sections and options, negative durations, misspelt names, unset environment
variables. Each is a warning where Supervisor silently accepts the file."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.support import PY
from vigil.config import Severity, check, load

ENV = {"HOME": "/root", "PATH": "/usr/bin:/bin"}


def _write(tmp_path: Path, text: str, name: str = "supervisord.conf") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _lines(path: str) -> list[str]:
    return [str(problem) for problem in check(path, environ=ENV)]


# repeated sections and options


def test_a_repeated_option_names_both_places(tmp_path: Path) -> None:
    path = _write(tmp_path, "[supervisord]\n[program:a]\ncommand=/bin/true\ncommand=/bin/false\n")
    assert _lines(path) == [
        f"{path}:4: warning: [program:a] command: option set again (first at {path}:3); "
        "this later value replaces the earlier one (silently in Supervisor)"
    ]
    (group,) = load(path, environ=ENV).groups
    assert group.processes[0].command == "/bin/false"  # merged as Supervisor merges


def test_a_repeated_section_names_both_places(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "[supervisord]\n[program:a]\ncommand=/bin/true\n[program:a]\nautostart=false\n"
    )
    (line,) = _lines(path)
    assert line == (
        f"{path}:4: warning: [program:a]: section repeated (first at {path}:2); the two are "
        "merged, a repeated option taking the later value (Supervisor merges them silently)"
    )
    (group,) = load(path, environ=ENV).groups
    assert group.processes[0].autostart is False


def test_repetitions_across_included_files(tmp_path: Path) -> None:
    _write(tmp_path, "[program:a]\nstartsecs=5\n[supervisord]\nloglevel=debug\n", "extra.ini")
    path = _write(
        tmp_path,
        "[supervisord]\nloglevel=info\n[include]\nfiles=extra.ini\n[program:a]\n"
        "command=/bin/true\nstartsecs=1\n",
    )
    extra = str(tmp_path / "extra.ini")
    lines = _lines(path)
    for expected in (
        f"{extra}:1: warning: [program:a]: section repeated (first at {path}:5)",
        f"{extra}:2: warning: [program:a] startsecs: option set again (first at {path}:7)",
        f"{extra}:4: warning: [supervisord] loglevel: option set again (first at {path}:2)",
    ):
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    assert all("warning:" in line for line in lines)


def test_a_file_without_repetitions_has_no_such_warning(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "[supervisord]\n[program:a]\ncommand=/bin/true\n[program:b]\ncommand=x\n"
    )
    assert _lines(path) == []


# negative values Supervisor accepts


def test_negative_durations_and_retries_are_warnings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[supervisord]\n[program:a]\ncommand=/bin/true\nstartsecs=-1\nstartretries=-2\n"
        "stopwaitsecs=-3\n",
    )
    problems = check(path, environ=ENV)
    assert [(p.line, p.option, p.severity) for p in problems] == [
        (4, "startsecs", Severity.WARNING),
        (5, "startretries", Severity.WARNING),
        (6, "stopwaitsecs", Severity.WARNING),
    ]
    assert str(problems[1]).endswith(
        ":5: warning: [program:a] startretries = '-2': a negative value: Supervisor accepts "
        "it, and it acts as 0"
    )
    load(path, environ=ENV)  # still loads, as in Supervisor


# misspelt names


def test_unknown_options_suggest_the_closest_known_one(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[supervisord]\nchildlogdri=/tmp\n[program:a]\ncommand=/bin/true\nstdout_logfile_maxbyte=1\n"
        "frobnicate=1\n",
    )
    messages = [p.message for p in check(path, environ=ENV)]
    assert messages == [
        "unknown option 'childlogdri' is ignored; did you mean 'childlogdir'?",
        "unknown option 'stdout_logfile_maxbyte' is ignored; did you mean "
        "'stdout_logfile_maxbytes'?",
        "unknown option 'frobnicate' is ignored",  # nothing close: no guess
    ]


def test_misspelt_sections_suggest_the_section(tmp_path: Path) -> None:
    path = _write(tmp_path, "[supervisord]\n[programs:web]\ncommand=x\n[unix_http_sever]\n")
    messages = [p.message for p in check(path, environ=ENV)]
    assert messages == [
        "not a section Supervisor knows: it is ignored; did you mean [program:web]?",
        "not a section Supervisor knows: it is ignored; did you mean [unix_http_server]?",
    ]


# unset environment variables


def test_an_unset_environment_variable_is_named_without_listing_every_name(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "[supervisord]\n[program:a]\ncommand=/bin/echo %(ENV_NOT_THERE)s\n")
    (problem,) = check(path, environ=ENV)
    assert problem.is_error and (problem.line, problem.option) == (3, "command")
    assert "environment variable NOT_THERE is not set" in problem.message
    assert "Available names" not in problem.message
    assert "ENV_HOME" not in problem.message


def test_an_unknown_name_that_is_not_an_environment_variable_still_lists_names(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "[supervisord]\n[program:a]\ncommand=/bin/echo %(program_nme)s\n")
    (problem,) = check(path, environ=ENV)
    assert "Available names: " in problem.message and "program_name" in problem.message


# supervisord --check-config: the text, then what running it here would meet


def _check_command(
    conf: Path, *extra: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "vigil", "--check-config", "-c", str(conf), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or conf.parent,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
    )


def _conf(tmp_path: Path, body: str) -> Path:
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        f"[supervisord]\nlogfile={tmp_path}/d.log\npidfile={tmp_path}/d.pid\n"
        f"childlogdir={tmp_path}\n" + textwrap.dedent(body).lstrip("\n")
    )
    return conf


def test_a_config_that_cannot_run_is_reported_with_places(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)  # not executable
    (tmp_path / "bin").mkdir()
    conf = _conf(
        tmp_path,
        f"""
        [unix_http_server]
        file={tmp_path}/gone/s.sock
        [program:quoted]
        command=sh -c "echo a ; echo b"
        [program:missing]
        command=no-such-program-anywhere --flag
        [program:notexec]
        command={script}
        [program:nodir]
        command=/bin/true
        directory={tmp_path}/nowhere
        [program:ownpath]
        command=true
        environment=PATH="{tmp_path}/bin"
        [program:logs]
        command=/bin/true
        stdout_logfile={tmp_path}/gone/out.log
        """,
    )
    result = _check_command(conf)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    expected = [
        f"{conf}:6: [unix_http_server] file = '{tmp_path}/gone/s.sock': the socket "
        f"{tmp_path}/gone/s.sock cannot be created: directory {tmp_path}/gone does not exist",
        f"{conf}:8: [program:quoted] command = 'sh -c \"echo a': can't parse command "
        "'sh -c \"echo a': No closing quotation (the rest of the line, '; echo b\"', was read "
        "as a comment: ';' or '#' after a space starts one; remove the space before it)",
        f"{conf}:10: [program:missing] command = 'no-such-program-anywhere --flag': can't "
        "find command 'no-such-program-anywhere'",
        f"{conf}:12: [program:notexec] command = '{script}': command at '{script}' is not "
        "executable",
        f"{conf}:15: [program:nodir] directory = '{tmp_path}/nowhere': directory "
        f"{tmp_path}/nowhere does not exist",
        # the child's own PATH is searched, as at spawn
        f"{conf}:17: [program:ownpath] command = 'true': can't find command 'true'",
    ]
    assert lines[: len(expected)] == expected
    # a missing log directory is already an error of the text
    assert f"{conf}:21: [program:logs] stdout_logfile" in lines[-1]
    assert len(lines) == len(expected) + 1


def test_a_relative_command_is_resolved_in_the_programs_directory(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    tool = tmp_path / "app" / "run"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    conf = _conf(tmp_path, f"[program:a]\ncommand=./run\ndirectory={tmp_path}/app\n")
    result = _check_command(conf)
    assert (result.returncode, result.stdout) == (0, f"{conf}: OK\n")


def test_log_directories_the_daemon_user_cannot_write(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("checking as another user= needs root to set up")
    shared = Path(tempfile.mkdtemp(prefix="vigil-check-"))
    try:
        os.chmod(shared, 0o755)  # root's: nobody may not write here
        conf = tmp_path / "supervisord.conf"
        conf.write_text(
            f"[supervisord]\nuser=nobody\nlogfile={shared}/d.log\npidfile={shared}/d.pid\n"
            f"childlogdir={shared}\n[program:a]\ncommand=/bin/true\n"
        )
        lines = _check_command(conf).stdout.splitlines()
        assert lines == [
            f"{conf}:3: [supervisord] logfile = '{shared}/d.log': the main log {shared}/d.log "
            f"cannot be created: {shared} is not writable by user nobody",
            f"{conf}:4: [supervisord] pidfile = '{shared}/d.pid': the pidfile {shared}/d.pid "
            f"cannot be created: {shared} is not writable by user nobody",
            f"{conf}:5: [supervisord] childlogdir = '{shared}': AUTO child logs cannot be "
            f"created in {shared}: {shared} is not writable by user nobody",
        ]
    finally:
        shutil.rmtree(shared)


def test_warnings_alone_exit_0_and_are_printed(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "[program:a]\ncommand=/bin/true\nstartsecs=-1\nautostrat=true\n")
    result = _check_command(conf)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"{conf}:7: warning: [program:a] startsecs = '-1': a negative value: Supervisor "
        "accepts it, and it acts as 0",
        f"{conf}:8: warning: [program:a] autostrat = 'true': unknown option 'autostrat' is "
        "ignored; did you mean 'autostart'?",
        f"{conf}: OK (2 warnings)",
    ]


def test_an_unknown_user_is_an_error(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "[program:a]\ncommand=/bin/true\nuser=no-such-user-here\n")
    result = _check_command(conf)
    assert result.returncode == 1
    assert result.stdout == (
        f"{conf}:7: [program:a] user = 'no-such-user-here': Invalid user name no-such-user-here\n"
    )


def test_no_config_found_lists_the_paths_searched(tmp_path: Path) -> None:
    entry = tmp_path / "bin" / "supervisord"  # the search starts from the program's place
    entry.parent.mkdir()
    entry.write_text(f"#!{PY}\nfrom vigil.app import supervisord_main\nsupervisord_main()\n")
    entry.chmod(0o755)
    for extra in (["--check-config"], []):
        result = subprocess.run(
            [str(entry), *extra], capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
        assert result.returncode == 2
        assert result.stderr.startswith(
            f"Error: No config file found at default paths ({tmp_path}/etc/supervisord.conf, "
            f"{tmp_path}/supervisord.conf, supervisord.conf, etc/supervisord.conf, "
            "/etc/supervisord.conf, /etc/supervisor/supervisord.conf); use the -c option"
        ), result.stderr
