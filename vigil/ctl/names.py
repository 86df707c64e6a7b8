"""Process names as users type them: ``name``, ``group:name``, ``group:*`` and ``group:``."""

from __future__ import annotations


def make_namespec(group: str, name: str) -> str:
    """How a process is shown: its bare name when it is alone in a group of the same name."""
    return name if group == name else f"{group}:{name}"


def split_namespec(namespec: str) -> tuple[str, str | None]:
    """(group, process) for a typed name; process is None for a whole group (``g:*``, ``g:``).
    A bare name means the process of that name in the group of that name."""
    group, colon, process = namespec.partition(":")
    if not colon:
        return namespec, namespec
    if not process or process == "*":
        return group, None
    return group, process
