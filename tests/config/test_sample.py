"""vigil's sample configuration (echo_supervisord_conf): it loads cleanly, names only options
vigil knows, and every option it shows commented out shows the option's default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from vigil import confecho
from vigil.config import check, load
from vigil.config.loader import _known_options

SAMPLE = Path(confecho.__file__).parent / "skel" / "sample.conf"
LINES = SAMPLE.read_text().splitlines()
HEADER = re.compile(r"^;?\[(?P<name>[^\]]+)\]")
OPTION = re.compile(r"^;(?P<name>[a-z_.]+)\s*=")
NOT_A_DEFAULT = ("(required", "(no default")


def _sections() -> list[tuple[int, str, list[int]]]:
    """(header line index, section name, option line indexes) for every section."""
    found: list[tuple[int, str, list[int]]] = []
    for index, line in enumerate(LINES):
        header = HEADER.match(line)
        if header:
            found.append((index, header.group("name"), []))
        elif OPTION.match(line) and found:
            found[-1][2].append(index)
    return found


def _text(uncommented: set[int]) -> str:
    return "\n".join(line[1:] if index in uncommented else line for index, line in enumerate(LINES))


def _cases() -> list[tuple[str, int, set[int]]]:
    """(id, option line, lines to uncomment with it) for every option showing a default."""
    cases = []
    for header, name, options in _sections():
        active = set()
        if LINES[header].startswith(";"):
            active = {header} | {i for i in options if "(required" in LINES[i]}
        for index in options:
            if not any(marker in LINES[index] for marker in NOT_A_DEFAULT):
                option = OPTION.match(LINES[index])
                assert option
                cases.append((f"{name}.{option.group('name')}", index, active))
    return cases


def test_the_sample_loads_without_any_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMPDIR", raising=False)
    assert check(str(SAMPLE)) == []
    load(str(SAMPLE))


def test_echo_supervisord_conf_prints_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    confecho.main()
    assert capsys.readouterr().out == SAMPLE.read_text()


@pytest.mark.parametrize(("header", "name", "options"), _sections(), ids=lambda v: str(v))
def test_the_sample_shows_only_known_options(header: int, name: str, options: list[int]) -> None:
    known = _known_options(name)
    assert known != frozenset(), f"[{name}] is not a section vigil knows"
    for index in options:
        option = OPTION.match(LINES[index])
        assert option and (known is None or option.group("name") in known), LINES[index]


@pytest.mark.parametrize(("case", "index", "active"), _cases(), ids=[c[0] for c in _cases()])
def test_each_commented_option_shows_its_default(
    case: str, index: int, active: set[int], tmp_path: Path
) -> None:
    without, with_option = tmp_path / "without.conf", tmp_path / "with.conf"
    without.write_text(_text(active))
    with_option.write_text(_text(active | {index}))
    expected = dataclasses.replace(load(str(without)), path=str(with_option))
    assert load(str(with_option)) == expected, LINES[index]


def test_the_sample_has_every_section_of_supervisors() -> None:
    names = {name.split(":")[0] for _, name, _ in _sections()}
    assert names == {
        "unix_http_server",
        "inet_http_server",
        "supervisord",
        "rpcinterface",
        "supervisorctl",
        "program",
        "eventlistener",
        "fcgi-program",
        "group",
        "include",
    }
