"""Namespecs: how clients name a process (`name`, `group:name`) or a group (`group:*`)."""

from __future__ import annotations


def split_namespec(namespec: str) -> tuple[str, str | None]:
    """(group, process); process is None when the spec names a whole group."""
    group, sep, process = namespec.partition(":")
    if not sep:
        return namespec, namespec
    if not process or process == "*":
        return group, None
    return group, process


def make_namespec(group: str, process: str) -> str:
    return process if group == process else f"{group}:{process}"
