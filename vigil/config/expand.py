"""``%(name)s`` expansion of option values, with Supervisor's semantics and messages.

Supervisor applies Python's ``%`` operator to a value with a dict of names, so every
conversion Python knows works (``%(process_num)02d``) and ``%%`` is a literal ``%``. One
difference on purpose: a specifier without a name (``%s``, ``%d``) is an error here, where
Supervisor would format its whole table of names (environment included) into the value;
and an unset ``%(ENV_X)s`` names the variable instead of listing every name there is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from vigil.config.datatypes import ConversionError


class ExpansionError(ConversionError):
    """A value that cannot be expanded; the text is Supervisor's message."""


class _UnnamedSpecifier(Exception):
    pass


class _Names(dict[str, object]):
    """The table of names; using it as a whole (an unnamed ``%s``) is refused."""

    def __str__(self) -> str:
        raise _UnnamedSpecifier

    __repr__ = __str__


# Python names the type in some messages ("%d format: a real number is required, not dict").
_Names.__name__ = "dict"

ENV_PREFIX = "ENV_"

# Widths or precisions this large would make Python build a huge string.
_HUGE_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d{5,}|\*?\.\d{5,})")


def expand(text: str, names: Mapping[str, object], label: str) -> str:
    """Expand ``text`` with ``names``; ``label`` is how Supervisor names the option in errors."""
    if "%" not in text:
        return text
    table = _Names(names)
    try:
        if _HUGE_FIELD.search(text):
            raise ValueError("field width or precision too large")
        return text % table
    except KeyError as exc:
        missing = str(exc.args[0]) if exc.args else ""
        if missing.startswith(ENV_PREFIX):
            raise ExpansionError(
                f"Format string {text!r} for {label!r} uses %({missing})s, but environment "
                f"variable {missing[len(ENV_PREFIX):]} is not set (a program's own "
                "environment= is seen only by its command, directory, process_name and log "
                "files)"
            ) from None
        available = ", ".join(sorted(table))
        raise ExpansionError(
            f"Format string {text!r} for {label!r} contains names ({exc}) which cannot be "
            f"expanded. Available names: {available}"
        ) from None
    except _UnnamedSpecifier:
        raise ExpansionError(
            f"Format string {text!r} for {label!r} is badly formatted: a %-specifier without "
            "a name would expand to the whole table of names; give a name as in "
            "%(program_name)s, or write %% for a literal %"
        ) from None
    except Exception as exc:
        raise ExpansionError(
            f"Format string {text!r} for {label!r} is badly formatted: {exc}"
        ) from None


def environment_names(environ: Mapping[str, str]) -> dict[str, object]:
    """``ENV_X`` for every variable X of an environment."""
    return {f"{ENV_PREFIX}{key}": value for key, value in environ.items()}
