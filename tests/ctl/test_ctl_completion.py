"""``supervisorctl completion bash|zsh|fish``: the scripts print without a configuration file
or server, parse in their shell, and complete actions, options, flags and the names a
daemonized daemon has (asked with ``supervisorctl status`` when Tab is pressed).

Where a shell is not installed its script is still checked: its structure (blocks opened
and closed, the registration line, every action named) and, through awk, the name lists.
Nothing is skipped."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ctl.harness import DEADLINE, PY, REPO, TestDaemon, run_ctl
from vigil.ctl.actions import builtin_actions
from vigil.ctl.completion import _AWK_GROUPS, _AWK_NAMES, SHELLS, SIGNALS

COMMANDS = sorted(name for name in builtin_actions() if name != "EOF")
PROGRAMS = """
[program:sleeper]
command=sleep 1000
startsecs=0

[program:web]
command=sleep 1000
numprocs=2
process_name=web_%(process_num)s
startsecs=0
autostart=false
"""


def script(shell: str) -> str:
    # No configuration file to be found, and none needed.
    result = run_ctl("vigil", ["-c", "/nonexistent-vigil-test.conf", "completion", shell])
    assert (result.stderr, result.status) == ("", 0), result
    return result.stdout


def test_completion_wants_one_shell_name() -> None:
    for args in (["completion"], ["completion", "tcsh"], ["completion", "bash", "zsh"]):
        result = run_ctl("vigil", ["-s", "unix:///nonexistent/s.sock", *args])
        assert result.status == 2, result
        assert result.stdout.startswith("Error: completion requires one shell name: bash, zsh")
    # (and the list of actions help prints stays Supervisor's)
    assert "completion" not in run_ctl("vigil", ["-s", "unix:///x", "help"]).stdout
    assert "bash|zsh|fish" in run_ctl("vigil", ["-s", "unix:///x", "help", "completion"]).stdout


# -- the text of each script -----------------------------------------------------------------


def _code(text: str) -> str:
    """The script without comments and single-quoted strings (the awk programs)."""
    text = re.sub(r"'[^']*'", "''", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text, re.MULTILINE))


def check_structure(shell: str, text: str) -> None:
    code = _code(text)
    for command in COMMANDS:
        assert re.search(rf"\b{command}\b", text), (shell, command)
    if shell in ("bash", "zsh"):
        assert _count(r"\bif\b", code) == _count(r"\bfi\b", code), shell
        assert _count(r"\bcase\b", code) == _count(r"\besac\b", code), shell
        assert _count(r"\bdo\b", code) == _count(r"\bdone\b", code), shell
        assert code.count("{") == code.count("}"), shell
        assert text.count('"') % 2 == 0, shell
    if shell == "bash":
        assert text.rstrip().endswith("complete -F _supervisorctl supervisorctl")
    elif shell == "zsh":
        assert code.count("(") == code.count(")"), shell  # (zsh's case patterns have both)
        assert text.startswith("#compdef supervisorctl\n")
        assert "compdef _supervisorctl supervisorctl" in text
    else:
        blocks = r"^\s*(function|if|while|for|switch|begin)\b"
        assert _count(blocks, code) == _count(r"^\s*end\b", code)
        top_level = [line for line in code.splitlines() if line and not line[0].isspace()]
        assert all(
            line.startswith(("complete -c supervisorctl ", "function ", "end"))
            for line in top_level
        ), top_level
        assert "complete -c supervisorctl -f" in text


def parse_command(shell: str, path: Path) -> list[str]:
    return {"bash": ["bash", "-n"], "zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}[
        shell
    ] + [str(path)]


@pytest.mark.parametrize("shell", SHELLS)
def test_script_parses(shell: str, tmp_path: Path) -> None:
    """In its shell when installed; its structure always."""
    text = script(shell)
    check_structure(shell, text)
    if shutil.which(shell) is None:
        assert shell != "bash", "bash is needed by these tests"
        return  # the structure was checked above: that is this shell's test here
    path = tmp_path / f"supervisorctl.{shell}"
    path.write_text(text)
    parsed = subprocess.run(parse_command(shell, path), capture_output=True, text=True)
    assert (parsed.returncode, parsed.stderr) == (0, ""), parsed


STATUS = (
    "sleeper                          \x1b[32mRUNNING\x1b[0m   pid 12, uptime 0:00:05\n"
    "web:web_0                        STOPPED   Not started\n"
    "web:web_1                        FATAL     Exited too quickly\n"
    "unix:///x.sock no such file\n"
    "Server requires authentication\n"
)


def _awk(program: str, text: str) -> set[str]:
    awk = shutil.which("awk")
    assert awk is not None, "awk is needed by the completion scripts and these tests"
    done = subprocess.run([awk, program], input=text, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_names_from_status_output() -> None:
    """Processes, their groups as ``g:*`` and ``all``; groups alone for add/remove/update.
    Lines that are not processes (a server that is not there) give nothing."""
    assert _awk(_AWK_NAMES, STATUS) == {"sleeper", "web:web_0", "web:web_1", "web:*", "all"}
    assert _awk(_AWK_GROUPS, STATUS) == {"sleeper", "web"}
    assert _awk(_AWK_NAMES, "unix:///x.sock no such file\n") == {"all"}


# -- completing against a daemon -------------------------------------------------------------

# (what is typed, what completes it); {conf} is the daemon's configuration file.
CASES = [
    ("supervisorctl st", {"start", "status", "stop"}),
    ("supervisorctl ", set(COMMANDS)),
    ("supervisorctl -c {conf} start ", {"sleeper", "web:web_0", "web:web_1", "web:*", "all"}),
    ("supervisorctl --configuration={conf} stop web:w", {"web:web_0", "web:web_1"}),
    ("supervisorctl -c {conf} update ", {"sleeper", "web", "all"}),
    ("supervisorctl -c {conf} tail -f sleeper st", {"stdout", "stderr"}),
    ("supervisorctl -c {conf} signal ", set(SIGNALS)),
    ("supervisorctl -c {conf} signal HUP s", {"sleeper"}),
    ("supervisorctl -c {conf} status --", {"--json", "--stats"}),
    ("supervisorctl -c {conf} version --", {"--verbose", "--json"}),
    ("supervisorctl help re", {"reload", "remove", "reopen", "reread", "restart"}),
    ("supervisorctl completion ", set(SHELLS)),
    ("supervisorctl -s unix:///nonexistent-vigil-test/s.sock stop ", {"all"}),
]

BASH_DRIVER = """
source "$1"
shift
for line in "$@"; do
    COMP_LINE=$line; COMP_POINT=${#line}; COMPREPLY=()
    _supervisorctl
    printf '%s\\n' "${COMPREPLY[*]}"
done
"""
# compadd and _files stand in for zsh's completion system: they print what would be offered.
ZSH_DRIVER = """
compdef() { : }
compadd() {
  local -a c=("${@[${@[(i)--]}+1,-1]}")
  local -a m=("${(@M)c:#${PREFIX}*}")
  print -rn -- "$m "
}
_files() { : }
source "$1"
shift
for line in "$@"; do
  words=("${(@z)line}"); [[ $line == *' ' ]] && words+=('')
  CURRENT=${#words}; PREFIX=${words[CURRENT]}
  _supervisorctl; print
done
"""
FISH_DRIVER = """
source $argv[1]
for line in $argv[2..-1]
    echo (complete -C"$line" | cut -f1 | string join ' ')
end
"""
DRIVERS = {"bash": BASH_DRIVER, "zsh": ZSH_DRIVER, "fish": FISH_DRIVER}


def completions(shell: str, text: str, lines: list[str], bin_dir: Path) -> list[set[str]]:
    """What the script offers for each line, each as the shell would, with ``supervisorctl``
    on the PATH being vigil's."""
    scratch = bin_dir.parent
    (scratch / f"script.{shell}").write_text(text)
    (scratch / f"driver.{shell}").write_text(DRIVERS[shell])
    command = {"bash": ["bash"], "zsh": ["zsh", "-f"], "fish": ["fish", "--no-config"]}[shell]
    done = subprocess.run(
        [*command, str(scratch / f"driver.{shell}"), str(scratch / f"script.{shell}"), *lines],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(scratch), "LC_ALL": "C.UTF-8"},
        stdin=subprocess.DEVNULL,
    )
    assert (done.returncode, done.stderr) == (0, ""), done
    offered = [set(row.split()) for row in done.stdout.split("\n")[: len(lines)]]
    if shell == "bash":
        # bash replaces only what follows the last ':' of the word (COMP_WORDBREAKS)
        for index, line in enumerate(lines):
            word = line.rsplit(" ", 1)[-1]
            if ":" in word:
                prefix = word[: word.rindex(":") + 1]
                offered[index] = {prefix + name for name in offered[index]}
    return offered


@pytest.fixture
def ctl_bin(tmp_path: Path) -> Path:
    """A directory with a ``supervisorctl`` that is vigil's from this tree."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "supervisorctl"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {PY} -m vigil.ctl.main "$@"\n')
    wrapper.chmod(0o755)
    for tool in ("awk", "sh", "sort", "cut"):
        found = shutil.which(tool)
        assert found is not None, tool
    return bin_dir


@pytest.mark.parametrize("shell", SHELLS)
def test_completing_against_a_daemon(
    shell: str, ctl_bin: Path, start_daemonized: Callable[..., TestDaemon]
) -> None:
    text = script(shell)
    if shutil.which(shell) is None:
        # Not installed here: what can be checked without it is (test_script_parses and
        # test_names_from_status_output); check its structure again rather than pass blind.
        check_structure(shell, text)
        assert shell != "bash", "bash is needed by these tests"
        return
    daemon = start_daemonized("vigil", PROGRAMS)
    daemon.wait_states({"sleeper": "RUNNING"})
    lines = [line.replace("{conf}", str(daemon.conf)) for line, _ in CASES]
    offered = completions(shell, text, lines, ctl_bin)
    for (line, expected), got in zip(CASES, offered, strict=True):
        assert got == expected, (shell, line, got)
