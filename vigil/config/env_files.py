"""Environment files (``env_file``): systemd's EnvironmentFile and Docker/dotenv syntax.

One ``NAME=value`` per line. Blank lines and lines starting with ``#`` or ``;`` are comments;
``export NAME=value`` is taken as ``NAME=value`` (so a file sourced by a shell reads the same
here). A value may be in single quotes (taken as written), in double quotes (``\\"``,
``\\\\``, ``\\$``, ``\\n`` and ``\\t`` are escapes; it may run over several lines), or bare
(surrounding whitespace removed; a backslash at the end of the line joins the next one, as
in systemd). A ``#`` inside a bare value is part of it, as in systemd and Docker; after a
closing quote it starts a comment. Nothing is expanded: ``$HOME`` stays ``$HOME``.

Reading happens when the configuration is loaded, so ``reread`` and ``update`` see a changed
file as a changed program. Errors name the file and the line.
"""

from __future__ import annotations

import os
import re

from vigil.config.datatypes import ConversionError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_DOUBLE_ESCAPES = {'"': '"', "\\": "\\", "$": "$", "`": "`", "n": "\n", "t": "\t"}


class EnvFileError(ConversionError):
    """A file that cannot be read, or a line that is not ``NAME=value``."""


def env_file_paths(value: str, here: str) -> tuple[str, ...]:
    """``PATH[, PATH...]`` as written (a leading ``-``: the file may be missing); a relative
    path is taken from the directory of the configuration file."""
    paths = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        optional = item.startswith("-")
        path = item[1:].strip() if optional else item
        if not path:
            raise ConversionError(f"env_file entry {item!r} names no file")
        path = os.path.normpath(os.path.join(here, os.path.expanduser(path)))
        paths.append(("-" if optional else "") + path)
    if not paths:
        raise ConversionError("env_file names no file")
    return tuple(paths)


def read_env_files(paths: tuple[str, ...]) -> dict[str, str]:
    """Every variable of the files, later files overriding earlier ones."""
    found: dict[str, str] = {}
    for entry in paths:
        optional = entry.startswith("-")
        path = entry[1:] if optional else entry
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            if optional:
                continue
            raise EnvFileError(
                f"env_file {path}: no such file (a leading '-' allows that)"
            ) from None
        except ValueError as exc:  # a NUL in the path; UnicodeDecodeError is one too
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise EnvFileError(f"env_file {path!r}: {reason}") from None
        except OSError as exc:
            raise EnvFileError(f"env_file {path}: {exc.strerror or exc}") from None
        found.update(parse_env(text, path))
    return found


def parse_env(text: str, path: str = "<env_file>") -> dict[str, str]:
    """The variables of one file's text; EnvFileError naming ``path`` and the line."""
    found: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line[0] in "#;":
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        name, equals, rest = line.partition("=")
        name = name.strip()
        if not equals or not _NAME.match(name):
            what = f"{name!r} is not a variable name" if equals else "no '=' in the line"
            raise EnvFileError(f"{path}, line {number}: {what} (expected NAME=value)")
        value, index = _value(rest.lstrip(), lines, index, path, number)
        found[name] = value
    return found


def _value(rest: str, lines: list[str], index: int, path: str, number: int) -> tuple[str, int]:
    """The value starting at ``rest``, and the index of the line after it."""
    if rest[:1] == "'":
        end = rest.find("'", 1)
        if end < 0:
            raise EnvFileError(f"{path}, line {number}: the single quote is never closed")
        _after_quote(rest[end + 1 :], path, number)
        return rest[1:end], index
    if rest[:1] == '"':
        return _double_quoted(rest[1:], lines, index, path, number)
    value = rest.rstrip()
    while value.endswith("\\") and index < len(lines):  # systemd's continuation line
        value = value[:-1] + lines[index].strip()
        index += 1
    return value, index


def _double_quoted(
    text: str, lines: list[str], index: int, path: str, number: int
) -> tuple[str, int]:
    out: list[str] = []
    while True:
        position = 0
        while position < len(text):
            char = text[position]
            if char == "\\" and position + 1 < len(text):
                following = text[position + 1]
                out.append(_DOUBLE_ESCAPES.get(following, "\\" + following))
                position += 2
                continue
            if char == '"':
                _after_quote(text[position + 1 :], path, number)
                return "".join(out), index
            out.append(char)
            position += 1
        if index >= len(lines):
            raise EnvFileError(f"{path}, line {number}: the double quote is never closed")
        out.append("\n")
        text = lines[index]
        index += 1


def _after_quote(rest: str, path: str, number: int) -> None:
    rest = rest.strip()
    if rest and not rest.startswith("#"):
        raise EnvFileError(f"{path}, line {number}: text after the closing quote: {rest!r}")
