"""Where a configuration file is looked for when -c is not given."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import candidates, find_config, not_found_message, search


def test_candidates_in_supervisors_order() -> None:
    assert candidates("/opt/vigil/bin/supervisord") == [
        "/opt/vigil/etc/supervisord.conf",
        "/opt/vigil/supervisord.conf",
        "supervisord.conf",
        "etc/supervisord.conf",
        "/etc/supervisord.conf",
        "/etc/supervisor/supervisord.conf",
    ]


def test_a_bare_program_name_searches_relative_paths() -> None:
    assert candidates("supervisord")[:2] == ["etc/supervisord.conf", "supervisord.conf"]


def test_the_first_existing_candidate_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "supervisord.conf").write_text("")
    argv0 = str(tmp_path / "install" / "bin" / "supervisord")
    assert find_config(argv0) == "etc/supervisord.conf"
    (tmp_path / "supervisord.conf").write_text("")
    assert find_config(argv0) == "supervisord.conf"
    (tmp_path / "install" / "etc").mkdir(parents=True)
    (tmp_path / "install" / "etc" / "supervisord.conf").write_text("")
    assert find_config(argv0) == str(tmp_path / "install" / "etc" / "supervisord.conf")


def test_nothing_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "candidates", lambda argv0: [str(tmp_path / "none.conf")])
    assert find_config("/nowhere/bin/x") is None


def test_the_not_found_message_is_supervisors() -> None:
    assert not_found_message("/nowhere/bin/x") == (
        "No config file found at default paths (/nowhere/etc/supervisord.conf, "
        "/nowhere/supervisord.conf, supervisord.conf, etc/supervisord.conf, "
        "/etc/supervisord.conf, /etc/supervisor/supervisord.conf); use the -c option to "
        "specify a config file at a different path"
    )
