"""Finding a command's program: PATH searched at every spawn, only the parsing remembered."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vigil.runtime.command import CommandError, resolve_command


def program(path: Path, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return path


def test_the_first_folder_of_path_holding_it_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    found = program(second / "tool")
    search = f"{tmp_path / 'missing'}:{first}:{second}"
    expected = (str(found), ["tool", "--x", "a b"])
    assert resolve_command("tool --x 'a b'", {"PATH": search}) == expected
    nearer = program(first / "tool")  # installed since: seen at the next spawn
    assert resolve_command("tool", {"PATH": search})[0] == str(nearer)
    nearer.unlink()
    assert resolve_command("tool", {"PATH": search})[0] == str(found)


def test_a_directory_or_a_file_without_exec_bits_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tool").mkdir()
    with pytest.raises(CommandError, match="is a directory"):
        resolve_command("tool", {"PATH": str(tmp_path)})
    program(tmp_path / "plain", mode=0o644)
    with pytest.raises(CommandError, match="is not executable"):
        resolve_command("plain", {"PATH": str(tmp_path)})
    with pytest.raises(CommandError, match="can't find command") as missing:
        resolve_command("nowhere", {"PATH": str(tmp_path)})
    assert missing.value.missing


def test_an_empty_path_entry_is_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program(tmp_path / "here")
    monkeypatch.chdir(tmp_path)
    assert resolve_command("here", {"PATH": f"{tmp_path / 'missing'}::"})[0] == "here"


def test_each_call_gets_its_own_argv(tmp_path: Path) -> None:
    program(tmp_path / "tool")
    env = {"PATH": str(tmp_path)}
    _, argv = resolve_command("tool one", env)
    argv.append("changed by the caller")
    assert resolve_command("tool one", env)[1] == ["tool", "one"]


@pytest.mark.parametrize(
    ("command", "message"),
    [("tool 'unclosed", "can't parse command"), ("   ", "command is empty")],
)
def test_a_bad_command_line_fails_every_time(command: str, message: str) -> None:
    for _ in range(2):
        with pytest.raises(CommandError, match=message) as failure:
            resolve_command(command, dict(os.environ))
        assert not failure.value.missing
