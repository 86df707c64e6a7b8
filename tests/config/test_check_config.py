"""What `check` (and ``supervisord --check-config``) reports about the text of a file:
repeated sections and options, negative durations, misspelt names, unset environment
variables. Each is a warning where Supervisor silently accepts the file."""

from __future__ import annotations

from pathlib import Path

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
    assert "startretries = -2 is negative" in problems[1].message
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
