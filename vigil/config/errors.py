"""Configuration problems: where each one is (file, line, section, option) and what is wrong.

Every failure of the config layer reaches its callers as one `ConfigError` holding all the
problems found, so a user fixes a file in one pass instead of one error per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(Enum):
    ERROR = "error"  # the file is refused
    WARNING = "warning"  # the file loads; the daemon logs the message


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing wrong with a configuration file.

    ``message`` carries Supervisor's own wording where Supervisor reports the same problem, so
    that users searching for a message they know still find it.
    """

    message: str
    file: str = ""
    line: int = 0
    section: str | None = None
    option: str | None = None
    value: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        parts: list[str] = []
        if place:
            parts.append(f"{place}:")
        if self.severity is Severity.WARNING:
            parts.append("warning:")
        if self.section is not None:
            subject = f"[{self.section}]"
            if self.option is not None:
                subject += f" {self.option}"
                if self.value is not None:
                    subject += f" = {self.value!r}"
            parts.append(subject + ":")
        parts.append(self.message)
        return " ".join(parts)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class ConfigError(Exception):
    """A configuration that cannot be used; ``str()`` gives one line per problem."""

    def __init__(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, message: str, file: str = "") -> ConfigError:
        return cls((Problem(message=message, file=file),))
