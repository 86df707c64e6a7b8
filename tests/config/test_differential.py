"""vigil's loader against Supervisor 4.3.0's own ServerOptions/ClientOptions, file by file.

Every file of ``corpus/good`` is parsed by both and compared field by field (every field of
every process, the groups, the servers, the supervisord options, parse warnings and infos).
Every file of ``corpus/bad`` is refused by both, with Supervisor's message inside vigil's.
Every file of ``corpus/differ`` is accepted by Supervisor and refused by vigil on purpose:
its first line says which message vigil gives (``# expect: ...``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.config.support import (
    CORPUS,
    ENV,
    ROOT,
    SUPERVISOR_PYTHON,
    ctl_dump,
    run_supervisor,
    server_dump,
    supervisor_core,
)
from vigil.config import ConfigError, load, load_ctl

SAMPLE = ROOT / "vigil" / "skel" / "sample.conf"  # vigil's echo_supervisord_conf
GOOD = sorted([*CORPUS.glob("good/*.conf"), *CORPUS.glob("good/*/main.conf"), SAMPLE])
BAD = sorted([*CORPUS.glob("bad/*.conf"), *CORPUS.glob("bad/*/main.conf")])
DIFFER = sorted(CORPUS.glob("differ/*.conf"))

# Refused by both, in different words (Supervisor's text here is a Python artefact).
UNSET_ENV = re.compile(r"contains names \('ENV_(\w+)'\) which cannot be expanded")
MESSAGE_DIFFERS = {
    "parse_error_line": "Supervisor prints configparser's multi-line ParsingError",
    "no_section_header": "Supervisor prints configparser's MissingSectionHeaderError",
    "include_broken": "Supervisor prints configparser's multi-line ParsingError",
    "fcgi_relative_unix_socket": "Supervisor formats a tuple (a bug in parse_fcgi_socket)",
    "fcgi_bad_socket_format": "Supervisor formats a tuple (a bug in parse_fcgi_socket)",
    "group_unknown_program": "Supervisor names the previous member's section (a reused variable)",
}


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(CORPUS if p.is_relative_to(CORPUS) else ROOT)) for p in paths]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cwd")
    (path / "sub").mkdir()
    return path


@pytest.fixture(scope="module")
def supervisor(workdir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Supervisor's parse of every corpus file, in one run of its interpreter."""
    if not SUPERVISOR_PYTHON.exists():
        pytest.fail("the Supervisor reference venv is missing: run `make supervisor-ref`")
    cases = [
        {"mode": mode, "path": str(path), "env": ENV, "cwd": str(workdir)}
        for path in GOOD + BAD + DIFFER
        for mode in ("server", "ctl")
    ]
    results = run_supervisor(cases)
    return {(c["mode"], c["path"]): r for c, r in zip(cases, results, strict=True)}


@pytest.fixture
def in_workdir(workdir: Path) -> Iterator[Path]:
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        yield workdir
    finally:
        os.chdir(previous)


# the tests


@pytest.mark.parametrize("path", GOOD, ids=_ids(GOOD))
def test_good_files_parse_the_same(
    path: Path, supervisor: dict[tuple[str, str], dict[str, Any]], in_workdir: Path
) -> None:
    expected = supervisor[("server", str(path))]
    assert "error" not in expected, expected
    # Supervisor repeats a program's warnings once per process; vigil says each once.
    expected["warnings"] = list(dict.fromkeys(expected["warnings"]))
    assert server_dump(load(str(path), environ=ENV)) == expected


@pytest.mark.parametrize("path", GOOD, ids=_ids(GOOD))
def test_good_files_read_the_same_by_supervisorctl(
    path: Path, supervisor: dict[tuple[str, str], dict[str, Any]], in_workdir: Path
) -> None:
    expected = supervisor[("ctl", str(path))]
    if "error" in expected:
        with pytest.raises(ConfigError) as caught:
            load_ctl(str(path), environ=ENV)
        assert expected["error"] in str(caught.value)
    else:
        assert ctl_dump(*load_ctl(str(path), environ=ENV)) == expected


@pytest.mark.parametrize("path", BAD, ids=_ids(BAD))
def test_bad_files_are_refused_by_both(
    path: Path, supervisor: dict[tuple[str, str], dict[str, Any]], in_workdir: Path
) -> None:
    expected = supervisor[("server", str(path))]
    assert "error" in expected, f"Supervisor accepts {path.name}"
    with pytest.raises(ConfigError) as caught:
        load(str(path), environ=ENV)
    name = path.parent.name if path.name == "main.conf" else path.stem
    unset = UNSET_ENV.search(expected["error"])
    if unset:  # vigil names the variable instead of listing every name it knows
        assert f"environment variable {unset.group(1)} is not set" in str(caught.value)
    elif name not in MESSAGE_DIFFERS:
        assert supervisor_core(expected["error"]) in str(caught.value)


@pytest.mark.parametrize("path", DIFFER, ids=_ids(DIFFER))
def test_vigil_refuses_what_supervisor_would_fail_on_later(
    path: Path, supervisor: dict[tuple[str, str], dict[str, Any]], in_workdir: Path
) -> None:
    assert "error" not in supervisor[("server", str(path))]
    expect = path.read_text().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(ConfigError) as caught:
        load(str(path), environ=ENV)
    assert expect in str(caught.value)


def test_the_corpus_is_large_enough() -> None:
    assert len(GOOD) >= 25
    assert len(BAD) >= 40
