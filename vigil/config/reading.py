"""Reading one option: look it up, expand it, convert it, and record any problem with its place.

A failed option records a `Problem` and yields the fallback value, so loading goes on and
reports every problem of a file at once; the caller refuses the result if any was an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from vigil.config.datatypes import ConversionError, convert
from vigil.config.errors import Problem, Severity
from vigil.config.expand import expand
from vigil.config.ini import Entry, IniDocument

T = TypeVar("T")


def default_of(cls: type[Any], name: str) -> Any:
    """The one default of a model field (the dataclass is where defaults live)."""
    item = _fields_of(cls).get(name)
    if item is not None:
        if item.default is not dataclasses.MISSING:
            return item.default
        if item.default_factory is not dataclasses.MISSING:
            return item.default_factory()
    raise LookupError(f"{cls.__name__}.{name} has no default")


_FIELDS: dict[type[Any], dict[str, dataclasses.Field[Any]]] = {}


def _fields_of(cls: type[Any]) -> dict[str, dataclasses.Field[Any]]:
    """A model's fields by name: asked a few times per option of every program, so a config
    of thousands of programs would otherwise walk the field list millions of times."""
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = {item.name: item for item in dataclasses.fields(cls)}
    return known


class ProblemLog:
    """The problems found while loading, in the order found."""

    def __init__(self, main_file: str) -> None:
        self.main_file = main_file
        self.items: list[Problem] = []
        # What the daemon logs as warnings once it has a log: Supervisor's own text for the
        # warnings Supervisor gives too, the located problem for the others.
        self.log_lines: list[str] = []

    def add(
        self,
        message: str,
        *,
        section: str | None = None,
        option: str | None = None,
        entry: Entry | None = None,
        place: tuple[str, int] | None = None,
        severity: Severity = Severity.ERROR,
        log_line: str | None = None,
    ) -> None:
        file, line = (entry.file, entry.line) if entry else (place or (self.main_file, 0))
        problem = Problem(
            message=message,
            file=file,
            line=line,
            section=section,
            option=option if section is not None else None,
            value=entry.value if entry is not None and option is not None else None,
            severity=severity,
        )
        if problem in self.items:  # read once per process, reported once
            return
        self.items.append(problem)
        if not problem.is_error:
            self.log_lines.append(log_line or str(problem))

    def extend(self, problems: list[Problem]) -> None:
        """Problems found elsewhere, their warnings logged in their own words."""
        for problem in problems:
            self.items.append(problem)
            if not problem.is_error:
                self.log_lines.append(problem.message)

    def warn(self, message: str, **where: Any) -> None:
        self.add(message, severity=Severity.WARNING, **where)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.is_error]

    def in_file_order(self, problems: list[Problem]) -> list[Problem]:
        """Sorted by file (the main file first, the others as they were met), then line."""
        rank = {self.main_file: 0}
        for problem in problems:
            rank.setdefault(problem.file, len(rank))
        return sorted(problems, key=lambda p: (rank[p.file], p.line))


class OptionReader:
    """Options of one document, read with the names each place allows.

    ``environment`` holds the ``ENV_*`` names every option may use; it grows once
    ``[supervisord] environment`` is read, as in supervisord.
    """

    def __init__(
        self, document: IniDocument, problems: ProblemLog, environment: dict[str, object]
    ) -> None:
        self.document = document
        self.problems = problems
        self.environment = environment

    def place(self, section: str) -> tuple[str, int]:
        found = self.document.sections.get(section)
        return (found.file, found.line) if found else (self.problems.main_file, 0)

    def error(self, section: str, message: str, option: str | None = None) -> None:
        """A problem with a section, or with one option of it when it is given."""
        entry = self.document.get(section, option) if option else None
        self.problems.add(
            message, section=section, option=option, entry=entry, place=self.place(section)
        )

    def text(
        self,
        section: str,
        option: str,
        names: Mapping[str, object] | None = None,
        *,
        do_expand: bool = True,
    ) -> str | None:
        """The option's text, expanded with ENV_* plus ``names``; None when absent or bad."""
        entry = self.document.get(section, option)
        if entry is None:
            return None
        if not do_expand:
            return entry.value
        return self.expanded(section, option, entry.value, names, f"{section}.{option}")

    def expanded(
        self,
        section: str,
        option: str,
        text: str,
        names: Mapping[str, object] | None,
        label: str,
    ) -> str | None:
        """Expand a text belonging to an option; None (and a problem) when it fails."""
        table = dict(self.environment)
        table.update(names or {})
        try:
            return expand(text, table, label)
        except ConversionError as exc:
            self.error(section, str(exc), option)
            return None

    def value(
        self,
        section: str,
        option: str,
        converter: Callable[[str], T],
        fallback: T,
        names: Mapping[str, object] | None = None,
    ) -> T:
        """The converted option, or ``fallback`` when it is absent (or bad: a problem)."""
        text = self.text(section, option, names)
        if text is None:
            return fallback
        return self.converted(section, option, converter, text, fallback)

    def converted(
        self,
        section: str,
        option: str | None,
        converter: Callable[[str], T],
        text: str,
        fallback: T,
        message: str | None = None,
    ) -> T:
        """Convert a text of an option; ``message`` replaces the converter's own on failure."""
        try:
            return convert(converter, text)
        except ConversionError as exc:
            self.error(section, message or str(exc), option)
            return fallback
