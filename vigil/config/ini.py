"""The INI reader: Supervisor's parsing rules, plus the file and line of every value.

The rules are those of Python's ``RawConfigParser`` as Supervisor configures it
(``inline_comment_prefixes=(';', '#')``, ``strict=False``, no interpolation):

* option names are lower-cased, section names are kept as written;
* a line indented deeper than the option line before it continues that value; blank lines
  inside a value are kept, trailing ones dropped;
* ``;`` and ``#`` start a comment at the start of a line, or inline after whitespace only
  (``a=b;c`` keeps ``;c``);
* a section or option given twice is merged, the last value winning (each repetition is
  recorded in ``duplicates`` so that it can be reported: Supervisor merges silently);
* ``[DEFAULT]`` options are visible in every section.

``[include] files`` is processed the way supervisord does it (see `read_with_includes`).
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from vigil.config.errors import Problem, Severity
from vigil.config.expand import ExpansionError, expand

DEFAULT_SECTION = "DEFAULT"
HERE = "%(here)s"

_SECTION_RE = re.compile(r"\[(?P<header>.+)\]")
_OPTION_RE = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_NONSPACE_RE = re.compile(r"\S")
_COMMENT_PREFIXES = ("#", ";")


@dataclass
class Entry:
    """One option's value and where it was written (the line of its ``name =``)."""

    value: str
    file: str
    line: int
    # The inline comment cut from the option's line (``; x`` in ``a = b ; x``), kept to
    # explain a value that looks truncated.
    comment: str = ""


@dataclass
class Section:
    name: str
    file: str  # where the section first appeared
    line: int
    options: dict[str, Entry] = field(default_factory=dict)


class IniDocument:
    """Sections in order of first appearance, merged across every file read into it."""

    def __init__(self) -> None:
        self.sections: dict[str, Section] = {}
        self.defaults = Section(DEFAULT_SECTION, "", 0)
        # Sections and options met again after their first appearance, as warnings.
        self.duplicates: list[Problem] = []

    # reading

    def read_file(self, path: str) -> list[Problem]:
        """Parse one file into the document; OSError when it cannot be read."""
        with open(path, encoding="utf-8") as stream:
            try:
                text = stream.read()
            except UnicodeDecodeError as exc:
                return [Problem(message=f"cannot be read as UTF-8 text: {exc}", file=path)]
        return self.read_text(text, path)

    def read_text(self, text: str, filename: str) -> list[Problem]:
        """Parse INI text; returns the lines that could not be parsed (RawConfigParser's rules)."""
        problems: list[Problem] = []
        pending: list[tuple[Entry, list[str]]] = []
        section: Section | None = None
        option: str | None = None
        lines: list[str] = []  # the value lines of `option`
        indent_level = 0
        for lineno, line in _numbered_lines(text):
            comment_start = _comment_start(line)
            value = line[:comment_start].strip()
            if not value:
                if comment_start is None and section is not None and option:
                    lines.append("")
                continue
            first_nonspace = _NONSPACE_RE.search(line)
            indent = first_nonspace.start() if first_nonspace else 0
            if section is not None and option and indent > indent_level:
                lines.append(value)
                continue
            indent_level = indent
            header = _SECTION_RE.match(value)
            if header:
                section = self._open_section(header.group("header"), filename, lineno)
                option = None
                continue
            if section is None:
                problems.append(
                    Problem(
                        message="File contains no section headers: the first line that is "
                        f"not blank or a comment must be a [section] header, not {value!r}",
                        file=filename,
                        line=lineno,
                    )
                )
                break
            match = _OPTION_RE.match(value)
            if not match:
                problems.append(_parsing_error(filename, lineno, value, section.name))
                continue
            name, optval = match.group("option"), match.group("value")
            if not name:
                problems.append(_parsing_error(filename, lineno, value, section.name))
            option = name.rstrip().lower()
            comment = line[comment_start:].strip() if comment_start is not None else ""
            entry = Entry("", filename, lineno, comment)
            if option in section.options:
                self.duplicates.append(_repeated_option(section.name, option, entry, section))
            section.options[option] = entry
            lines = [optval.strip()]
            pending.append((entry, lines))
        for entry, value_lines in pending:
            entry.value = "\n".join(value_lines).rstrip()
        return problems

    def _open_section(self, name: str, filename: str, lineno: int) -> Section:
        if name in self.sections or (name == DEFAULT_SECTION and self.defaults.file):
            found = self.sections.get(name, self.defaults)
            self.duplicates.append(
                Problem(
                    message=f"section repeated (first at {found.file}:{found.line}); "
                    "the two are merged, a repeated option taking the later value (Supervisor "
                    "merges them silently)",
                    file=filename,
                    line=lineno,
                    section=name,
                    severity=Severity.WARNING,
                )
            )
            return found
        if name == DEFAULT_SECTION:
            self.defaults.file, self.defaults.line = filename, lineno
            return self.defaults
        section = Section(name, filename, lineno)
        self.sections[name] = section
        return section

    # querying, with [DEFAULT] as the fallback of every section

    def has_section(self, name: str) -> bool:
        return name in self.sections

    def get(self, section: str, option: str) -> Entry | None:
        found = self.sections.get(section)
        if found is not None and option in found.options:
            return found.options[option]
        return self.defaults.options.get(option)

    def options(self, section: str) -> list[str]:
        """Option names of a section, its own first, then those only in [DEFAULT]."""
        own = list(self.sections[section].options)
        return own + [name for name in self.defaults.options if name not in own]

    def items(self, section: str) -> Iterator[tuple[str, Entry]]:
        merged = dict(self.defaults.options)
        merged.update(self.sections[section].options)
        return iter(merged.items())

    def expand_here(self, here: str) -> None:
        """Replace ``%(here)s`` textually in every value read so far (supervisord's way)."""
        for name, section in self.sections.items():
            for option, entry in list(self.items(name)):
                if HERE in entry.value:
                    section.options[option] = dataclasses.replace(
                        entry, value=entry.value.replace(HERE, here)
                    )


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines split on newline only, as iterating a text file does, each with its newline."""
    pieces = text.split("\n")
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        if last and not piece:
            return
        yield index + 1, piece if last else piece + "\n"


def _comment_start(line: str) -> int | None:
    """Where a comment starts: a whole-line comment, or ``;``/``#`` after whitespace."""
    if line.strip().startswith(_COMMENT_PREFIXES):
        return 0
    # RawConfigParser advances each prefix to its next occurrence in rounds and stops at the
    # first round that finds a valid one, so a later ';' can win over an earlier '#'.
    start = sys.maxsize
    searching = {prefix: -1 for prefix in (";", "#")}
    while start == sys.maxsize and searching:
        following: dict[str, int] = {}
        for prefix, previous in searching.items():
            index = line.find(prefix, previous + 1)
            if index == -1:
                continue
            following[prefix] = index
            if index == 0 or line[index - 1].isspace():
                start = min(start, index)
        searching = following
    return None if start == sys.maxsize else start


def _repeated_option(section: str, option: str, entry: Entry, owner: Section) -> Problem:
    first = owner.options[option]
    return Problem(
        message=f"option set again (first at {first.file}:{first.line}); this "
        "later value replaces the earlier one (silently in Supervisor)",
        file=entry.file,
        line=entry.line,
        section=section,
        option=option,
        severity=Severity.WARNING,
    )


def _parsing_error(filename: str, lineno: int, text: str, section: str) -> Problem:
    return Problem(
        message=f"Source contains parsing errors: {text!r} is neither a [section] header "
        "nor a 'name = value' option (a continuation line must be indented)",
        file=filename,
        line=lineno,
        section=section,
    )


@dataclass
class ReadResult:
    """A main file with its includes read: the document and what reading it found."""

    document: IniDocument
    problems: list[Problem] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)


def read_with_includes(path: str, names: Mapping[str, object]) -> ReadResult:
    """Read a supervisord config file and the files its ``[include]`` section names.

    ``names`` are the expansions allowed in ``files`` (here, host_node_name, ENV_*).
    As in supervisord, only the main file's ``[include]`` is processed (an included file's
    own ``[include]`` is merged but not followed), each glob is relative to the main file's
    directory and sorted, and ``%(here)s`` is replaced textually, file by file, by the
    directory of the file a value was read from.
    """
    document = IniDocument()
    result = ReadResult(document)
    result.problems.extend(document.read_file(path))
    if not document.has_section("include"):
        return result
    here = os.path.abspath(os.path.dirname(path))
    document.expand_here(here)
    entry = document.get("include", "files")
    if entry is None:
        section = document.sections["include"]
        result.problems.append(
            Problem(
                message=".ini file has [include] section, but no files setting",
                file=section.file,
                line=section.line,
                section="include",
            )
        )
        return result
    try:
        patterns = expand(entry.value, names, "include.files").split()
    except ExpansionError as exc:
        result.problems.append(entry_problem(entry, "include", "files", str(exc)))
        return result
    for pattern in patterns:
        pattern = os.path.join(here, pattern)
        filenames = sorted(glob.glob(pattern))
        if not filenames:
            result.problems.append(
                entry_problem(
                    entry,
                    "include",
                    "files",
                    f'No file matches via include "{pattern}"',
                    Severity.WARNING,
                )
            )
            continue
        for filename in filenames:
            result.infos.append(f'Included extra file "{filename}" during parsing')
            result.problems.extend(_read_included(document, filename, entry))
            document.expand_here(os.path.abspath(os.path.dirname(filename)))
    return result


def _read_included(document: IniDocument, filename: str, include: Entry) -> list[Problem]:
    """Read one included file; one that is not a readable regular file is skipped, as
    supervisord skips unreadable ones (and rather than block on a pipe or device)."""
    try:
        regular = stat.S_ISREG(os.stat(filename).st_mode)
    except OSError:
        regular = False
    reason = "it is not a regular file"
    if regular:
        try:
            return document.read_file(filename)
        except OSError as exc:
            reason = exc.strerror or str(exc)
    return [
        entry_problem(
            include,
            "include",
            "files",
            f'Included file "{filename}" was skipped: {reason}',
            Severity.WARNING,
        )
    ]


def entry_problem(
    entry: Entry,
    section: str,
    option: str,
    message: str,
    severity: Severity = Severity.ERROR,
) -> Problem:
    return Problem(
        message=message,
        file=entry.file,
        line=entry.line,
        section=section,
        option=option,
        value=entry.value,
        severity=severity,
    )
